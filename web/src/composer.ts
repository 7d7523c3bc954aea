import { h } from "./dom.js";
import { describeError } from "./api.js";

/** Sends one message; `clientMessageId` stays the same when the reader retries the same text. */
export type SendFn = (text: string, clientMessageId: string) => Promise<void>;

/**
 * The message composer: a labelled textarea and a Send button. Enter sends,
 * Shift+Enter adds a line. A failed send keeps the text, and sending it again
 * reuses its idempotency key, so a send that did reach the server is not
 * stored twice.
 */
export function createComposer(
  label: string,
  send: SendFn,
  /** Told the text as the reader types, and "" with `sent` once a send cleared it (typing indicators). */
  onText?: (text: string, sent: boolean) => void,
): { element: HTMLFormElement; focus(): void } {
  const input = h("textarea", {
    id: "composer-input",
    name: "text",
    rows: 1,
    maxlength: 4000,
    required: true,
    autocomplete: "off",
    "data-testid": "composer-input",
  });
  const button = h("button", { type: "submit", "data-testid": "composer-send" }, "Send");
  const error = h("p", { class: "error", role: "alert", "data-testid": "composer-error" });
  const form = h(
    "form",
    { class: "composer", "data-testid": "composer" },
    h("label", { for: "composer-input", class: "visually-hidden" }, label),
    input,
    button,
    error,
  );

  let pending: { text: string; key: string } | undefined;
  let sending = false;

  async function submit(): Promise<void> {
    const text = input.value;
    if (sending || text.trim() === "") return;
    if (pending?.text !== text) pending = { text, key: crypto.randomUUID() };
    sending = true;
    button.disabled = true;
    error.textContent = "";
    try {
      await send(text, pending.key);
      pending = undefined;
      if (input.value === text) {
        input.value = "";
        onText?.("", true);
      }
    } catch (err) {
      error.textContent = `Not sent: ${describeError(err)} Press Enter to retry.`;
    } finally {
      sending = false;
      button.disabled = false;
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void submit();
  });
  input.addEventListener("input", () => onText?.(input.value, false));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void submit();
    }
  });
  return { element: form, focus: () => input.focus() };
}
