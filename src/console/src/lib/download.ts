/** Saves text as a file through the browser's download, without keeping it anywhere. */
export function saveTextFile(fileName: string, text: string, mime = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoke after the download has started; the Blob is then unreachable and collected.
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Reads a small text file chosen by the user (a public or private key), refusing anything large. */
export async function readSmallTextFile(file: File, maxBytes = 16 * 1024): Promise<string> {
  if (file.size > maxBytes)
    throw new Error(`The file ${file.name} is ${file.size} bytes; a key file is at most ${maxBytes} bytes.`);
  return file.text();
}
