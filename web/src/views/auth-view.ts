import { Code, ConnectError, type User } from "@parley/client/web";
import { client, describeError, session } from "../api.js";
import { busy, h, type View } from "../dom.js";

/**
 * Sign in / create account. One form, two submit buttons: Enter signs in.
 * Creating an account signs in straight after. Calls `onSignedIn` with the user.
 */
export function authView(onSignedIn: (user: User) => void): View {
  const username = h("input", {
    id: "username",
    name: "username",
    autocomplete: "username",
    required: true,
    minlength: 3,
    maxlength: 32,
    autocapitalize: "none",
    spellcheck: "false",
    "data-testid": "login-username",
  });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
    minlength: 8,
    maxlength: 128,
    "aria-describedby": "password-hint",
    "data-testid": "login-password",
  });
  const error = h("p", { class: "error", role: "alert", "data-testid": "auth-error" });
  const form = h(
    "form",
    { class: "card auth", "data-testid": "login-form" },
    h("h1", { tabindex: -1 }, "Welcome to Parley"),
    h("div", { class: "field" }, h("label", { for: "username" }, "Username"), username),
    h(
      "div",
      { class: "field" },
      h("label", { for: "password" }, "Password"),
      password,
      h("small", { id: "password-hint", class: "hint" }, "At least 8 characters."),
    ),
    error,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", value: "signin", "data-testid": "sign-in" }, "Sign in"),
      h("button", { type: "submit", value: "signup", class: "secondary", "data-testid": "sign-up" }, "Create account"),
    ),
  );

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const creating = (e.submitter as HTMLButtonElement | null)?.value === "signup";
    const credentials = { username: username.value.trim(), password: password.value };
    error.textContent = "";
    void busy(form, async () => {
      try {
        if (creating) await client.signUp(credentials.username, credentials.password);
        const res = await client.signIn(credentials.username, credentials.password);
        if (!res.user) throw new Error("sign-in response without a user");
        session.set(res.accessToken);
        onSignedIn(res.user);
      } catch (err) {
        const code = ConnectError.from(err).code;
        error.textContent =
          !creating && code === Code.Unauthenticated
            ? "Wrong username or password."
            : describeError(err, { taken: "That username is taken. Pick another, or sign in." });
      }
    }).then(() => {
      if (error.textContent) (creating ? username : password).focus();
    });
  });

  return { element: form, dispose() {} };
}
