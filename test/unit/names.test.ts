/**
 * Name and text rules (domain/names.ts) by their exact results: the stored form, the uniqueness key
 * (including the case where lower-casing leaves a string that is not NFC), and what is refused.
 */
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/domain/errors.js";
import { displayForm, messageText, roomName, uniquenessKey } from "../../src/domain/names.js";

describe("displayForm", () => {
  it("is NFC with the surrounding white space removed, inner spacing and case kept", () => {
    expect(displayForm("  Ge\u0301ne\u0301ral  Chat\t\n")).toBe("Général  Chat");
    expect(displayForm("\u3000Lobby\u00a0")).toBe("Lobby");
    expect(displayForm("ABC")).toBe("ABC");
  });
});

describe("uniquenessKey", () => {
  it("is the display form in lower case", () => {
    expect(uniquenessKey("  GÉNÉRAL ")).toBe("général");
    expect(uniquenessKey("Ge\u0301ne\u0301ral")).toBe("général");
    expect(uniquenessKey("Lobby")).toBe("lobby");
  });

  it("normalises again after lower-casing: J + combining caron lower-cases to j + caron, which NFC composes to ǰ", () => {
    expect("J\u030C".normalize("NFC")).toBe("J\u030C");
    expect(uniquenessKey("J\u030C")).toBe("\u01F0");
    expect(uniquenessKey("J\u030C")).toBe(uniquenessKey("\u01F0"));
  });
});

describe("roomName", () => {
  it("stores the display form and keys it by the uniqueness key", () => {
    expect(roomName("  Ge\u0301ne\u0301ral ")).toEqual({ name: "Général", key: "général" });
  });

  it.each(["", " ", "\t\n", "\u3000"])("refuses the blank name %j", (raw) => {
    expect(() => roomName(raw)).toThrow(new InvalidArgumentError("room name must not be blank"));
    expect(() => roomName(raw)).toThrow(InvalidArgumentError);
  });
});

describe("messageText", () => {
  it("is NFC, with every space kept (surrounding ones too)", () => {
    expect(messageText("  e\u0301  a  ")).toBe("  é  a  ");
    expect(messageText("x")).toBe("x");
    expect(messageText("line one\n\nline two")).toBe("line one\n\nline two");
  });

  it.each(["", " ", "\n\t", "\u3000 "])("refuses the blank text %j", (raw) => {
    expect(() => messageText(raw)).toThrow(new InvalidArgumentError("text must not be blank"));
    expect(() => messageText(raw)).toThrow(InvalidArgumentError);
  });
});
