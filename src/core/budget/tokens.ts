// Prompt tokens for a reservation, counted with a real tokenizer (o200k_base, GPT-5's). Other providers'
// tokenizers differ (Claude 4.7+ gives about 30 % more tokens for the same text), so they get a margin:
// a reservation must not be lower than the bill.
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ProviderId } from '../policy/schema.js';

const MARGIN: Partial<Record<ProviderId, number>> = {
  openai: 1,
  anthropic: 1.35,
  deepseek: 1.2,
  moonshot: 1.2,
  local: 1.2,
};
/** Past this size the count is estimated (3 characters a token, generous for code) to keep the call path fast. */
const EXACT_UP_TO_CHARS = 200_000;

export function promptTokens(text: string, provider: ProviderId): number {
  const base = text.length > EXACT_UP_TO_CHARS ? Math.ceil(text.length / 2.5) : countTokens(text);
  return Math.ceil(base * (MARGIN[provider] ?? 1.35)) + 8; // + per-message framing
}
