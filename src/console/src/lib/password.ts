/** The instance password rule of the ECS API, checked in the browser before the server checks it again. */
const SPECIALS = "()`~!@#$%^&*-_+=|{}[]:;'<>,.?/";

export function passwordProblem(pw: string): string | null {
  if (pw.length < 8 || pw.length > 30) return 'Use 8 to 30 characters.';
  if (![...pw].every((c) => /[A-Za-z0-9]/.test(c) || SPECIALS.includes(c))) return `Use only letters, digits and ${SPECIALS}`;
  const classes = [/[A-Z]/, /[a-z]/, /[0-9]/].filter((re) => re.test(pw)).length + ([...pw].some((c) => SPECIALS.includes(c)) ? 1 : 0);
  if (classes < 3) return 'Use at least three of: upper-case letters, lower-case letters, digits, special characters.';
  return null;
}

/** Key pair names: 1-255 letters, digits, ':', '_', '.' or '-', starting with a letter or digit. */
export function keyPairNameProblem(name: string): string | null {
  if (name.length === 0) return 'Enter a name.';
  if (name.length > 255) return 'Use at most 255 characters.';
  if (!/^[\p{L}\p{N}][\p{L}\p{N}:_.-]*$/u.test(name)) return "Use letters, digits, ':', '_', '.' or '-', starting with a letter or digit.";
  if (/^https?:/i.test(name)) return "A name cannot start with 'http:' or 'https:'.";
  return null;
}
