// The AWS SDK's Node version notice, said once and plainly. The SDK's own notice is nine lines of stderr on
// every run; the CLI turns it off (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED, which silences that notice
// and nothing else) and prints this line instead, unless the user turned the notice off themselves.

/** The Node major the AWS SDK for JavaScript v3 requires for releases after the first week of January 2027. */
export const SDK_NEXT_NODE_MAJOR = 22;

const SDK_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * One line for an older Node, or undefined on Node >= 22 or when the notice was turned off by the user.
 * @example
 * nodeNotice('v20.19.0', {}); // 'Node v20.19.0: AWS SDK releases after the first week of January 2027 need Node >= 22 …'
 */
export function nodeNotice(version: string, env: Record<string, string | undefined>): string | undefined {
  if (env[SDK_SWITCH] === 'true') return undefined;
  const major = Number.parseInt(version.replace(/^v/, ''), 10);
  if (!(major < SDK_NEXT_NODE_MAJOR)) return undefined;
  return (
    `Node ${version}: AWS SDK releases after the first week of January 2027 need Node >= ${SDK_NEXT_NODE_MAJOR} ` +
    `(the pinned SDK still runs); upgrade Node, or set ${SDK_SWITCH}=true to hide this`
  );
}

/**
 * Call before the first SDK client exists: returns the line to print, and turns the SDK's own notice off.
 * @example
 * const line = takeNodeNotice(process.version, process.env);
 */
export function takeNodeNotice(version: string, env: Record<string, string | undefined>): string | undefined {
  const line = nodeNotice(version, env);
  env[SDK_SWITCH] ??= 'true';
  return line;
}
