const SENSITIVE_QUERY_PARAM = /key|token|secret|password|passwd|signature|auth/i;

/** The URL without user-info and with credential-looking query values masked: safe to log or report. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return '<invalid url>';
  }
  parsed.username = '';
  parsed.password = '';
  for (const name of [...parsed.searchParams.keys()]) {
    if (SENSITIVE_QUERY_PARAM.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString();
}

/** Replaces every occurrence of the given secrets (API keys) in a text meant for logs or reports. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) {
    // Very short values would mask ordinary words; real API keys are long.
    if (secret && secret.length >= 4) result = result.split(secret).join('***');
  }
  return result;
}
