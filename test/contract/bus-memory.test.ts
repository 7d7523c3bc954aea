/** The bus contract against the in-process adapter: one node (it cannot share a bus across processes). */
import { MemoryBus } from "../../src/bus/memory/memory-bus.js";
import { busContract } from "./bus-contract.js";

busContract(
  "memory",
  async (n) => {
    if (n !== 1) throw new Error("the memory bus plays exactly one node");
    const bus = new MemoryBus();
    return { buses: [bus], cleanup: () => bus.close() };
  },
  { nodes: 1 },
);
