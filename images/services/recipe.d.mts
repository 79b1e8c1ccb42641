export function nodeBaseTag(): string;
export function mcpTag(): string;
