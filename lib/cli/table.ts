import Table from 'cli-table3';

/** A plain table (no ANSI colours, so output piped to files and CI logs stays readable). */
export function table(head: string[]): InstanceType<typeof Table> {
  return new Table({ head, style: { head: [], border: [] } });
}
