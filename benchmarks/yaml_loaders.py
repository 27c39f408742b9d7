"""Measure YAML loaders on a generated rule file, and rulebot's whole loader on the same file.

    .venv/bin/python benchmarks/yaml_loaders.py [--rules 2000] [--repeat 7]

ruamel.yaml is not a dependency of rulebot; it is measured only when importable (install it in
a scratch directory and put that on PYTHONPATH). Each figure is one load of the whole file, in
milliseconds: the best and median wall time of ``--repeat`` runs, and the best CPU time (less
disturbed by other processes on a shared machine).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Callable

import yaml

from rulebot.lang.loader import load_text


def make_rule_file(rules: int) -> str:
    """A rule file of ``rules`` rules in every written form: one-line, mapping, quoted, folded, literal."""
    out = [
        "symbol: [BTCUSDT, ETHUSDT]\ncategory: linear\ntimeframe: 5m\ntimezone: Europe/Berlin\n",
        "settings:\n  leverage: 5\n  position_mode: oneway\n",
        "risk:\n  max_position: 0.05\n  max_order_value: 5000 usdt\n  max_daily_loss: 3%\n",
        "params: {rsi_low: 30, size: 0.01}\n",
        "rules:\n",
    ]
    for i in range(rules):
        form = i % 4
        if form == 0:
            out.append("  - when rsi(14) < ${rsi_low} and position == 0 then buy ${size} limit bid1 tp 2% trail 1%\n")
        elif form == 1:
            out.append(f"  - name: take profit {i}\n    when: rsi(14) > 70 and position > 0\n"
                       "    then: close market\n    cooldown: 15m\n")
        elif form == 2:
            out.append(f"  - name: funding {i}\n    every: 1h\n    when: funding_rate > 0.05% and position > 0\n"
                       "    then: 'close 50% market, notify \"funding high: {funding_rate}\"'\n")
        else:
            out.append(f"  - name: folded {i}\n    when: >\n      close > ema(50)\n      and volume > sma(20)\n"
                       "    then: |\n      buy 0.01 market\n    at: [\"08:00\", \"20:00\"]\n")
    return "".join(out)


def measure(run: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Best and median wall time, and best CPU time, of ``run`` in milliseconds."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return min(walls), statistics.median(walls), min(cpus)


def calibration() -> float:
    """Milliseconds for ``sum(range(10**7))``: about 100 on an idle modern core, to scale the figures."""
    start = time.perf_counter()
    sum(range(10**7))
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    text = make_rule_file(args.rules)
    print(f"file: {args.rules} rules, {len(text):,} characters, {text.count(chr(10)):,} lines")
    print(f"python {sys.version.split()[0]}, PyYAML {yaml.__version__}, libyaml {yaml.__with_libyaml__}")
    loaders: list[tuple[str, Callable[[], object], int]] = []
    try:
        from ruamel.yaml import YAML
        import ruamel.yaml

        print(f"ruamel.yaml {ruamel.yaml.__version__}")
        loaders.append(("ruamel.yaml round-trip load", lambda: YAML(typ="rt").load(text), 3))
    except ImportError:
        print("ruamel.yaml not importable: skipped")
    loaders += [
        ("PyYAML compose, pure Python", lambda: yaml.compose(text, Loader=yaml.SafeLoader), 3),
        ("PyYAML compose, libyaml (CSafeLoader)", lambda: yaml.compose(text, Loader=yaml.CSafeLoader), args.repeat),
        ("PyYAML safe_load, libyaml", lambda: yaml.load(text, Loader=yaml.CSafeLoader), args.repeat),
        ("rulebot load_text (compose + validate + Sources)", lambda: load_text(text, "bench.yaml"), args.repeat),
    ]
    print(f"calibration: sum(range(10**7)) took {calibration():.0f} ms")
    for name, run, repeat in loaders:
        best, median, cpu = measure(run, min(repeat, args.repeat))
        print(f"{name:50s} wall best {best:7.1f} ms, median {median:7.1f} ms; CPU best {cpu:7.1f} ms")


if __name__ == "__main__":
    main()
