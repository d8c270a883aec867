// Plain-language explanations of the file-system errors a long run meets (disk full, no
// permission, a path that is not a file), for the ledger and for the CLI's last-resort report.

/** What the error means and what to do, or null when it is not one of these. */
export const explainIoError = (text: string): string | null => {
  if (/ENOSPC|No space left on device|disk is full|File too large|EFBIG/i.test(text)) {
    return "the disk is full (no space left on device). Statements the ledger had committed are kept and the failed one is not; free some space and run again: the grid resumes where it stopped"
  }
  if (/EACCES|EPERM|Permission denied|Read-only file system|EROFS/i.test(text)) {
    return "not writable by this user (permission denied or a read-only file system); pass --ledger <file> in a directory you can write"
  }
  if (/ENOTDIR|Not a directory/i.test(text)) return "a part of the path is a file, not a directory; pass --ledger <dir>/<name>.duckdb"
  if (/EISDIR|Is a directory/i.test(text)) return "that path is a directory; pass --ledger <dir>/<name>.duckdb"
  return null
}
