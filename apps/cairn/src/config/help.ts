// --help in etcd's layout (section headings, "--flag 'default'" then the usage),
// with Cairn's defaults and the flags Cairn refuses for now marked as such.
import { FLAGS, FlagSpec, Section } from './flags';
import { formatGoDuration } from './go-values';

const SECTIONS: readonly Section[] = [
  'Member',
  'Clustering',
  'Security',
  'Auth',
  'Profiling and Monitoring',
  'Logging',
  'v2 Proxy (to be deprecated in v4)',
  'Experimental feature',
  'Unsafe feature',
  'TO BE DEPRECATED',
];

function shownDefault(spec: FlagSpec): string {
  if (spec.helpDefault !== undefined) return spec.helpDefault;
  if (spec.kind === 'duration') return formatGoDuration(spec.default as number);
  return Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
}

export function formatConfigHelp(): string {
  const out: string[] = [
    'Usage:',
    '',
    '  cairn [flags]',
    "    Start a Cairn member. Cairn takes etcd 3.4's flags, ETCD_* environment variables and config file.",
    '',
    '  cairn --version',
    '    Show the version of Cairn.',
    '',
    '  cairn -h | --help',
    '    Show the help information about Cairn.',
    '',
    '  cairn --config-file',
    '    Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.',
    '',
  ];
  for (const section of SECTIONS) {
    out.push('', `${section}:`);
    for (const spec of FLAGS.filter((s) => s.section === section && !s.hidden)) {
      out.push(`  --${spec.name} '${shownDefault(spec)}'`);
      out.push(`    ${spec.usage}${spec.unsupported ? ` [not supported yet: ${spec.unsupported}]` : ''}`);
    }
  }
  out.push('', 'CAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!', '');
  return out.join('\n');
}
