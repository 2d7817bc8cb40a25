// The edit matcher over real edits: every hunk of this repository's recent history (TypeScript files) becomes an
// edit_file call (old_text: the hunk's context and removed lines; new_text: its context and added lines), perturbed
// the ways models get them wrong. Each applied result is compared with the file as the commit really made it.
import { execFileSync } from 'node:child_process';
import { diffArrays } from 'diff';
import { applyEdit } from '../src/core/agent/edits/editMatch.js';
import { parsePatchFiles } from '../src/core/agent/edits/patchFiles.js';
import type { Figure } from './router.js';

/** The perturbed old and new text; `ambiguous`: the perturbation leaves more than one right answer. */
type Perturb = (old: string, neu: string) => [string, string, { ambiguous: boolean }?] | null;
const lines = (s: string) => s.split('\n');
const each = (s: string, f: (l: string, k: number) => string) => lines(s).map(f).join('\n');

const PERTURBATIONS: Record<string, Perturb> = {
  'as in the commit': (o, n) => [o, n],
  'indentation drift (+2 spaces)': (o, n) => [each(o, (l) => (l ? `  ${l}` : l)), each(n, (l) => (l ? `  ${l}` : l))],
  'tabs for spaces': (o, n) => {
    const tab = (s: string) => each(s, (l) => l.replace(/^( {2})+/, (m) => '\t'.repeat(m.length / 2)));
    return /^ {2}/m.test(o) ? [tab(o), tab(n)] : null;
  },
  'trailing whitespace': (o, n) => [each(o, (l, k) => (k % 2 ? `${l}  ` : l)), n],
  CRLF: (o, n) => [o.replace(/\n/g, '\r\n'), n.replace(/\n/g, '\r\n')],
  'a blank line missing': (o, n) => {
    const k = lines(o).findIndex((l, i) => i > 0 && l.trim() === '');
    if (k < 0) return null;
    const drop = (s: string) => {
      const ls = lines(s);
      const j = ls.findIndex((l, i) => i > 0 && l.trim() === '');
      return j < 0 ? s : [...ls.slice(0, j), ...ls.slice(j + 1)].join('\n');
    };
    return [drop(o), drop(n)];
  },
  'an extra blank line': (o, n) => {
    const add = (s: string) => {
      const ls = lines(s);
      return ls.length < 2 ? s : [ls[0]!, '', ...ls.slice(1)].join('\n');
    };
    return lines(o).length < 2 ? null : [add(o), add(n)];
  },
  'an unchanged line elided': (o, n) => {
    const ol = lines(o),
      nl = lines(n);
    // an interior line present, unchanged, in both (not the first or last of old_text)
    const k = ol.findIndex((l, i) => i > 0 && i < ol.length - 1 && l.trim().length > 3 && nl.includes(l));
    if (k < 0) return null;
    const j = nl.indexOf(ol[k]!);
    if (j <= 0 || j >= nl.length - 1) return null;
    // Unique intent only between two unchanged lines: beside an added or changed line, the left-out line could
    // go on either side of it.
    const ambiguous = !quietLine(ol, nl, k);
    return [
      [...ol.slice(0, k), ...ol.slice(k + 1)].join('\n'),
      [...nl.slice(0, j), ...nl.slice(j + 1)].join('\n'),
      { ambiguous },
    ];
  },
};

/** Old line k and its neighbours are kept by the hunk (old to new), with nothing added between them. */
function quietLine(ol: string[], nl: string[], k: number): boolean {
  const kept: boolean[] = [];
  const adds: number[] = [];
  for (const op of diffArrays(ol, nl)) {
    const n = op.count ?? op.value.length;
    if (op.added) adds[kept.length] = (adds[kept.length] ?? 0) + n;
    else for (let i = 0; i < n; i++) kept.push(!op.removed);
  }
  return !!(kept[k - 1] && kept[k] && kept[k + 1] && !adds[k] && !adds[k + 1]);
}

interface Case {
  before: string;
  old: string;
  neu: string;
  expected: string;
}

/** Hunks of recent commits whose old text occurs exactly once in the file before the commit (the intent is unique). */
function cases(limitCommits = 120, maxCases = 600): { cases: Case[]; notUnique: number } {
  let shas: string[] = [];
  try {
    shas = execFileSync('git', ['log', '--format=%H', `-n${limitCommits}`, '--no-merges', '--', 'src'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return { cases: [], notUnique: 0 };
  }
  const out: Case[] = [];
  let notUnique = 0;
  for (const sha of shas) {
    if (out.length >= maxCases) break;
    let patch: string;
    try {
      patch = execFileSync('git', ['show', '--format=', '-U3', sha, '--', '*.ts'], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
    } catch {
      continue; // the first commit has no parent
    }
    const parsed = parsePatchFiles(patch);
    if (!parsed.ok) continue;
    for (const f of parsed.files) {
      if (f.kind !== 'modify') continue;
      let before: string;
      try {
        before = execFileSync('git', ['show', `${sha}^:${f.path}`], {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
      } catch {
        continue;
      }
      for (const h of f.hunks) {
        if (!h.old.trim() || h.old === h.new) continue;
        const first = before.indexOf(h.old);
        if (first < 0 || before.indexOf(h.old, first + 1) >= 0) {
          notUnique++;
          continue;
        }
        out.push({ before, old: h.old, neu: h.new, expected: before.replace(h.old, () => h.new) });
      }
    }
  }
  return { cases: out.slice(0, maxCases), notUnique };
}

const loose = (s: string) =>
  s
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');

export function benchEditApply(): Figure[] {
  const { cases: all, notUnique } = cases();
  if (all.length === 0) return [{ name: 'edit-apply benchmark', value: 'no git history here: skipped' }];
  const count = { tried: 0, correct: 0, formatted: 0, refused: 0, wrong: 0 };
  const unique = { tried: 0, correct: 0, wrong: 0 };
  const ambiguous = { tried: 0, correct: 0, refused: 0, wrong: 0 };
  const per: string[] = [];
  for (const [name, perturb] of Object.entries(PERTURBATIONS)) {
    let n = 0,
      ok = 0;
    for (const c of all) {
      const p = perturb(c.old, c.neu);
      if (!p) continue;
      n++;
      const r = applyEdit(c.before, p[0], p[1]);
      const outcome = !r.ok
        ? 'refused'
        : r.text === c.expected
          ? 'correct'
          : loose(r.text) === loose(c.expected)
            ? 'formatted'
            : 'wrong';
      count.tried++;
      count[outcome]++;
      if (outcome === 'correct') ok++;
      // A perturbed old_text that is exactly in the file names that place: applying it there is the contract.
      const at = c.before.indexOf(p[0]);
      const home = c.before.indexOf(c.old);
      const elsewhere = at >= 0 && (at < home || at > home + c.old.length);
      if (p[2]?.ambiguous || elsewhere) {
        ambiguous.tried++;
        if (outcome !== 'formatted') ambiguous[outcome]++;
      } else {
        unique.tried++;
        if (outcome === 'correct') unique.correct++;
        if (outcome === 'wrong') unique.wrong++;
      }
    }
    per.push(`${name} ${ok}/${n}`);
  }
  const rate = (100 * unique.correct) / unique.tried;
  return [
    {
      name: `edit-apply: ${all.length} real hunks × ${Object.keys(PERTURBATIONS).length} forms (${count.tried} edits)`,
      value:
        `${rate.toFixed(1)} % correct where the intent is unique (${unique.correct}/${unique.tried}, ` +
        `${unique.wrong} wrong-place); all edits: ` +
        `${((100 * count.correct) / count.tried).toFixed(1)} % correct, ${count.formatted} right place but ` +
        `whitespace differs, ${count.refused} refused, ${count.wrong} wrong-place ` +
        `(${notUnique} hunks skipped: not unique in their file)`,
      goal: '>= 99 % correct where unique, 0 wrong-place',
      ok: rate >= 99 && unique.wrong === 0,
    },
    {
      name: '  more than one right answer (an elided line beside a change, or text exactly elsewhere)',
      value: `${ambiguous.tried}: ${ambiguous.refused} refused, ${ambiguous.correct} correct, ${ambiguous.wrong} wrong-place`,
    },
    { name: 'edit-apply, correct per form', value: per.join('; ') },
  ];
}
