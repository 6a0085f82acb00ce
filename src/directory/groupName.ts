/** Group names are unique compared case-insensitively: the stored `nameKey`. */
export function groupNameKey(name: string): string {
  return name.toLowerCase();
}
