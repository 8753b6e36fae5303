/** The prompt template forms: pure logic, so it is unit-tested. */

import type { Parsed } from "../ui/useDraftForm";
import { parseObject } from "./deployments";
import { VARIABLE_TYPES, type TemplateBody, type TemplateRole, type VariableSpec, type VariableType } from "../api/types";

/** The API's rules for template and variable names. */
const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MAX_CONTENT = 32_768;
const MAX_ITEMS = 64;

export interface MessageDraft {
  role: TemplateRole;
  content: string;
}

export interface VariableDraft {
  name: string;
  type: VariableType;
  required: boolean;
  /** Text for a string variable, JSON for the others; blank = no default. */
  default: string;
}

export interface TemplateDraft {
  name: string;
  messages: MessageDraft[];
  variables: VariableDraft[];
}

export type TemplateField = "name" | "messages" | "variables";

export const blankMessage = (role: TemplateRole = "user"): MessageDraft => ({ role, content: "" });
export const blankVariable = (): VariableDraft => ({ name: "", type: "string", required: false, default: "" });

export const blankTemplate = (): TemplateDraft => ({
  name: "",
  messages: [{ role: "system", content: "" }, blankMessage()],
  variables: [],
});

/** A stored version as a draft: the start of the next version. */
export function draftFromBody(name: string, body: TemplateBody): TemplateDraft {
  return {
    name,
    messages: body.messages.map((m) => ({ role: m.role, content: m.content })),
    variables: body.variables.map((v) => ({
      name: v.name,
      type: v.type,
      required: Boolean(v.required),
      default: v.default === undefined || v.default === null ? "" : v.type === "string" ? String(v.default) : JSON.stringify(v.default),
    })),
  };
}

function matchesType(value: unknown, type: VariableType): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
  }
}

/** A variable's default as typed -> its value; undefined = none, or the problem. */
export function parseDefault(text: string, type: VariableType): { value?: unknown; error?: string } {
  if (type === "string") return text === "" ? {} : { value: text };
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: `The default of a ${type} variable is JSON, such as ${EXAMPLES[type]}.` };
  }
  return matchesType(value, type) ? { value } : { error: `The default is not of type ${type} (such as ${EXAMPLES[type]}).` };
}

const EXAMPLES: Record<VariableType, string> = {
  string: '"text"',
  number: "1.5",
  integer: "3",
  boolean: "true",
  array: '["a", "b"]',
  object: '{"key": "value"}',
};

/** The messages and variables of a draft -> a version's body, or the first problem. */
export function bodyFromDraft(draft: TemplateDraft): Parsed<TemplateBody, TemplateField> {
  if (draft.messages.length === 0) return { field: "messages", error: "Add at least one message." };
  if (draft.messages.length > MAX_ITEMS) return { field: "messages", error: `At most ${MAX_ITEMS} messages.` };
  for (const [index, message] of draft.messages.entries()) {
    if (!message.content.trim()) return { field: "messages", error: `Message ${index + 1} is empty.` };
    if (message.content.length > MAX_CONTENT) {
      return { field: "messages", error: `Message ${index + 1} is longer than ${MAX_CONTENT} characters.` };
    }
  }
  if (draft.variables.length > MAX_ITEMS) return { field: "variables", error: `At most ${MAX_ITEMS} variables.` };
  const seen = new Set<string>();
  const variables: VariableSpec[] = [];
  for (const variable of draft.variables) {
    const name = variable.name.trim();
    if (!VARIABLE_NAME.test(name)) {
      return {
        field: "variables",
        error: `"${name}" is not a variable name: a letter, then letters, digits or "_" (at most 64).`,
      };
    }
    if (seen.has(name)) return { field: "variables", error: `The variable "${name}" is declared twice.` };
    seen.add(name);
    if (!VARIABLE_TYPES.includes(variable.type)) return { field: "variables", error: `Choose the type of "${name}".` };
    const parsed = parseDefault(variable.default, variable.type);
    if (parsed.error) return { field: "variables", error: `${name}: ${parsed.error}` };
    variables.push({
      name,
      type: variable.type,
      ...(variable.required ? { required: true } : {}),
      ...(parsed.value !== undefined ? { default: parsed.value } : {}),
    });
  }
  return { body: { messages: draft.messages.map((m) => ({ role: m.role, content: m.content })), variables } };
}

/** The create form -> the API's body: a name, then the first version. */
export function templateFromDraft(draft: TemplateDraft): Parsed<TemplateBody & { name: string }, TemplateField> {
  const name = draft.name.trim();
  if (!name) return { field: "name", error: "Enter a name." };
  if (!TEMPLATE_NAME.test(name)) {
    return { field: "name", error: 'Letters, digits, ".", "_" and "-", starting with a letter or digit (at most 100).' };
  }
  const parsed = bodyFromDraft(draft);
  return parsed.body ? { body: { name, ...parsed.body } } : { ...(parsed.field ? { field: parsed.field } : {}), ...(parsed.error ? { error: parsed.error } : {}) };
}

/** The preview's variables, typed as a JSON object; "" is {}. */
export function parseRenderVariables(text: string): { value?: Record<string, unknown>; error?: string } {
  const parsed = parseObject(text);
  return parsed.error ? { error: 'Enter a JSON object, such as {"name": "Ada"}.' } : { value: parsed.value };
}

/** A starting point for the preview: each declared variable with an example value. */
export function exampleVariables(variables: readonly VariableSpec[]): string {
  const example: Record<string, unknown> = {};
  for (const variable of variables) {
    example[variable.name] = variable.default ?? SAMPLE[variable.type];
  }
  return variables.length ? JSON.stringify(example, null, 2) : "";
}

const SAMPLE: Record<VariableType, unknown> = {
  string: "",
  number: 0,
  integer: 0,
  boolean: false,
  array: [],
  object: {},
};
