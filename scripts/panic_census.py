#!/usr/bin/env python3
"""Panic census: counts unwrap/expect/panic!/unreachable!/assert! sites in non-test code under
src/ (#[cfg(test)] items, comments and string literals stripped). `--list` prints every site.
Usage: python3 scripts/panic_census.py . [--list]   (see experiments/panic-census.md)"""
import re, sys, os, collections, json
root = sys.argv[1]
KINDS = {
 'unwrap': re.compile(r'\.unwrap\(\)'),
 'expect': re.compile(r'\.expect\('),
 'panic!': re.compile(r'\bpanic!\('),
 'unreachable!': re.compile(r'\bunreachable!\('),
 'assert!': re.compile(r'\b(assert|assert_eq|assert_ne)!\('),
 'debug_assert!': re.compile(r'\bdebug_assert(_eq|_ne)?!\('),
 'todo/unimplemented': re.compile(r'\b(todo|unimplemented)!\('),
}
def strip_tests(text):
    lines = text.split('\n'); out = []; i = 0
    while i < len(lines):
        if re.match(r'\s*#\[cfg\(test\)\]', lines[i]):
            # skip the following item: until braces balance
            j = i + 1; depth = 0; started = False
            while j < len(lines):
                code = re.sub(r'//.*', '', lines[j])
                depth += code.count('{') - code.count('}')
                if '{' in code: started = True
                if started and depth <= 0: break
                if not started and code.strip().endswith(';'): break
                j += 1
            out.extend([''] * (j - i + 1)); i = j + 1; continue
        out.append(lines[i]); i += 1
    return out
rows = []
for dp, _, fs in os.walk(os.path.join(root, 'src')):
    for f in sorted(fs):
        if not f.endswith('.rs'): continue
        p = os.path.join(dp, f); rel = os.path.relpath(p, root)
        for n, line in enumerate(strip_tests(open(p).read()), 1):
            code = re.sub(r'"(\\.|[^"\\])*"', '""', line)
            code = re.sub(r'//.*', '', code)
            for k, rx in KINDS.items():
                for _ in rx.finditer(code):
                    rows.append((rel, n, k, line.strip()))
if '--list' in sys.argv:
    for r in rows: print(f'{r[0]}:{r[1]}: [{r[2]}] {r[3]}')
else:
    by_kind = collections.Counter(r[2] for r in rows)
    by_mod = collections.Counter(r[0].split('/')[1].replace('.rs','') for r in rows)
    print(json.dumps({'total': len(rows), 'by_kind': by_kind, 'by_module': by_mod}, indent=1))
