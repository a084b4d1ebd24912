#!/usr/bin/env python3
"""diag-assert.py - assertions on a self-test report (XML, diag/report.rng) for diag-lab.sh.

usage: diag-assert.py REPORT.xml NAME [ID=VERDICT ...] [--rest=PASS|SKIP|PASS,SKIP]
                      [--advice ID=TEXT] [--no-advice ID=TEXT]
                      [--value ID:NAME=LO..HI] [--value ID:NAME=~TEXT] [--value ID:NAME=/REGEX/]
Prints TAP lines (no plan) and exits 0; the caller counts them.
"""
import re
import sys
import xml.etree.ElementTree as ET

NS = '{urn:dialstack:selftest:1}'
n = 0
failed = 0


def tap(ok, name, why=''):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print(('ok' if ok else 'not ok') + ' - ' + name)
    if not ok and why:
        for line in str(why).splitlines():
            print('# ' + line)


def main():
    path, label = sys.argv[1], sys.argv[2]
    try:
        root = ET.parse(path).getroot()
    except Exception as e:  # noqa: BLE001
        tap(False, f'{label}: report parses', e)
        return
    checks = {c.get('id'): c for c in root.findall(NS + 'check')}
    want, rest, advice, values, noadvice = {}, {'PASS'}, [], [], []
    for a in sys.argv[3:]:
        if a.startswith('--rest='):
            rest = set(a[7:].split(','))
        elif a.startswith('--advice='):
            k, v = a[9:].split('=', 1)
            advice.append((k, v))
        elif a.startswith('--no-advice='):
            k, v = a[12:].split('=', 1)
            noadvice.append((k, v))
        elif a.startswith('--value='):
            k, v = a[8:].split('=', 1)
            values.append((k, v))
        else:
            k, v = a.split('=', 1)
            want[k] = v
    for cid, c in checks.items():
        got = c.get('verdict')
        adv = (c.find(NS + 'advice').text or '')
        if cid in want:
            tap(got in want[cid].split('|'), f'{label}: {cid} is {want[cid]}', f'got {got}: {adv}')
        else:
            tap(got in rest, f'{label}: {cid} is {"/".join(sorted(rest))}', f'got {got}: {adv}')
    for k in want:
        if k not in checks:
            tap(False, f'{label}: {k} present in the report')
    for k, text in advice:
        c = checks.get(k)
        adv = (c.find(NS + 'advice').text or '') if c is not None else ''
        tap(text in adv, f'{label}: {k} advice says "{text}"', f'advice: {adv}')
    for k, text in noadvice:
        c = checks.get(k)
        adv = (c.find(NS + 'advice').text or '') if c is not None else ''
        tap(c is not None and text not in adv, f'{label}: {k} advice does not say "{text}"', f'advice: {adv}')
    for spec, rng in values:
        cid, name = spec.split(':', 1)
        c = checks.get(cid)
        val = None
        if c is not None:
            for v in c.findall(NS + 'value'):
                if v.get('name') == name:
                    val = v.text or ''
        if rng.startswith('/') and rng.endswith('/') and len(rng) > 1:
            tap(val is not None and re.search(rng[1:-1], val) is not None,
                f'{label}: {cid} {name} matches {rng}', f'value: {val}')
            continue
        if rng.startswith('~'):
            tap(val is not None and rng[1:] in val, f'{label}: {cid} {name} contains "{rng[1:]}"', f'value: {val}')
            continue
        lo, hi = (float(x) for x in rng.split('..'))
        try:
            f = float(val)
        except (TypeError, ValueError):
            tap(False, f'{label}: {cid} {name} in {lo}..{hi}', f'value: {val}')
            continue
        tap(lo <= f <= hi, f'{label}: {cid} {name} = {f} in {lo}..{hi}', f'value: {val}')


main()
