export function nodeBaseTag(): string;
export function mcpTag(): string;
export function pgbouncerTag(): string;
