/**
 * Rules for user-chosen names and texts beyond what the proto's validation expresses:
 * Unicode normalisation, trimming and the case rules that make names unique.
 */
import { InvalidArgumentError } from "./errors.js";

/** The form a name is stored and shown in: NFC, surrounding white space removed. */
export function displayForm(name: string): string {
  return name.normalize("NFC").trim();
}

/**
 * The form uniqueness is decided on: NFC, then locale-independent lower case, then NFC again
 * (lower-casing can denormalise). "Général" and "GÉNÉRAL" share one key.
 */
export function uniquenessKey(name: string): string {
  return displayForm(name).toLowerCase().normalize("NFC");
}

/** A room name as stored; throws when nothing but white space remains. */
export function roomName(raw: string): { name: string; key: string } {
  const name = displayForm(raw);
  if (name.length === 0) throw new InvalidArgumentError("room name must not be blank");
  return { name, key: uniquenessKey(name) };
}

/** Message text as stored: NFC; throws when nothing but white space. Inner spacing is kept. */
export function messageText(raw: string): string {
  const text = raw.normalize("NFC");
  if (text.trim().length === 0) throw new InvalidArgumentError("text must not be blank");
  return text;
}
