# ruff: noqa: E501  (the table holds exact one-line messages; wrapping them would hide them)
"""Bad input table: each bad input a user can give, with the exact one line they see.

Scenario files, CLI arguments, keystores and datasets run the real entry point
(``python -m modelpact``) in a subprocess and must exit 2 with exactly one stderr line; contract
calls run the real contract on the embedded chain and must raise the named error whose one line is
what the CLI prints. The README section "Bad input" is generated from the same table
(``python tests/cli/test_bad_inputs.py`` prints it) and a test checks the README matches, so the
two cannot drift.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.compiler import compile_round

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "offchain/modelpact/data/scenarios"
BASE = (SCENARIOS / "paper_case1.toml").read_text()


def _sc(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


@dataclass(frozen=True)
class BadInput:
    """One bad input: where it goes, the files and arguments, and the exact line printed."""

    case: str
    where: str
    what: str
    args: tuple[str, ...]
    message: str
    files: dict[str, str] = field(default_factory=dict)
    deployed: bool = False  # needs a deployment record (commit reads the menu from it)
    keystore: bool = False  # copy a valid keystore k.json into the working directory
    password: bool = True  # MODELPACT_PASSWORD set (False: unset, and no terminal on stdin)
    chain: bool = False  # with ``deployed``: also the node's state (st/), the round is read


_EMPTY_ABI_RECORD = json.dumps(
    {
        "chain_id": 31337,
        "address": "0x" + "ab" * 20,
        "tx_hash": "0x" + "00" * 32,
        "block_number": 1,
        "coordinator": "0x" + "cd" * 20,
        "compiler_version": "0.8.28",
        "compiler_settings": {},
        "abi": [],
        "runtime_bytecode_sha3": "0x" + "11" * 32,
        "scenario_file": "scenario.toml",
        "scenario_sha256": "",
        "menu_file": "menu.json",
        "menu_sha256": "",
    }
)


CLI_CASES: tuple[BadInput, ...] = (
    # ---- scenario files
    BadInput("scenario-missing", "scenario file", "the file does not exist",
             ("solve", "missing.toml"),
             "error: missing.toml: no such scenario file; check the path"),
    BadInput("scenario-not-toml", "scenario file", "TOML syntax error",
             ("solve", "s.toml"),
             "error: s.toml: not valid TOML (Invalid value (at line 1, column 16)); fix the TOML syntax",
             {"s.toml": "participants = = 3\n"}),
    BadInput("scenario-no-types", "scenario file", "no [[types]]",
             ("solve", "s.toml"),
             "error: s.toml: missing [[types]]; add one [[types]] table (cost, probability) per type",
             {"s.toml": "participants = 10\n"}),
    BadInput("scenario-zero-participants", "scenario file", "participants = 0",
             ("solve", "s.toml"),
             "error: s.toml: participants must be an integer >= 1, got 0; e.g. participants = 10",
             {"s.toml": _sc("participants = 10", "participants = 0")}),
    BadInput("scenario-fractional-participants", "scenario file", "participants = 2.5",
             ("solve", "s.toml"),
             "error: s.toml: participants must be an integer >= 1, got 2.5; e.g. participants = 10",
             {"s.toml": _sc("participants = 10", "participants = 2.5")}),
    BadInput("scenario-negative-cost", "scenario file", "a negative cost",
             ("solve", "s.toml"),
             "error: s.toml: types[1].cost must be > 0, got negative -0.2; use a positive value",
             {"s.toml": _sc("cost = 0.2\n", "cost = -0.2\n")}),
    BadInput("scenario-cost-string", "scenario file", "a cost that is not a number",
             ("solve", "s.toml"),
             "error: s.toml: types[1].cost must be a number, got 'high'; write a number",
             {"s.toml": _sc("cost = 0.2\n", "cost = 'high'\n")}),
    BadInput("scenario-costs-not-decreasing", "scenario file", "types not in decreasing cost",
             ("solve", "s.toml"),
             "error: s.toml: type costs must be strictly decreasing (type 1 = highest cost), but "
             "types[2].cost = 0.16 >= types[1].cost = 0.01; list the [[types]] from the highest "
             "cost to the lowest",
             {"s.toml": _sc("cost = 0.2\n", "cost = 0.01\n")}),
    BadInput("scenario-probabilities-sum", "scenario file", "probabilities not summing to 1",
             ("solve", "s.toml"),
             "error: s.toml: type probabilities sum to 1.3, not 1; make the probability fields of "
             "[[types]] add up to 1",
             {"s.toml": _sc("probability = 0.2\n", "probability = 0.5\n")}),
    BadInput("scenario-negative-probability", "scenario file", "a negative probability",
             ("solve", "s.toml"),
             "error: s.toml: types[1].probability must be > 0, got negative -0.2; use a positive "
             "value",
             {"s.toml": _sc("probability = 0.2\n", "probability = -0.2\n")}),
    BadInput("scenario-unknown-key", "scenario file", "a misspelt or unknown field",
             ("solve", "s.toml"),
             "error: s.toml: unknown field solver.colour; allowed fields here: belief, confidence, "
             "expectation, ic_margin, robust, samples, seed, serve",
             {"s.toml": BASE + "\ncolour = 'red'\n"}),
    BadInput("scenario-unknown-accuracy", "scenario file", "unknown accuracy kind",
             ("solve", "s.toml"),
             "error: s.toml: unknown accuracy kind 'magic'; use kind = \"sgb\", \"power\" or "
             "\"table\"",
             {"s.toml": _sc('kind = "sgb"', 'kind = "magic"')}),
    BadInput("scenario-unknown-valuation", "scenario file", "unknown valuation kind",
             ("solve", "s.toml"),
             "error: s.toml: unknown valuation kind 'log'; use kind = \"linear\" or \"exponential\"",
             {"s.toml": _sc('kind = "linear"', 'kind = "log"')}),
    BadInput("scenario-zero-scale", "scenario file", "valuation scale 0",
             ("solve", "s.toml"),
             "error: s.toml: valuation.scale must be > 0, got zero 0.0; use a positive value",
             {"s.toml": _sc("scale = 100.0", "scale = 0.0")}),
    BadInput("scenario-bad-belief", "scenario file", "unknown solver.belief",
             ("solve", "s.toml"),
             "error: s.toml: unknown solver.belief 'hope'; use \"bayes\" or \"paper\"",
             {"s.toml": _sc('belief = "bayes"', 'belief = "hope"')}),
    BadInput("scenario-bad-serve", "scenario file", "unknown solver.serve",
             ("solve", "s.toml"),
             "error: s.toml: solver.serve must be \"all\", \"optimal\" or a list of type numbers, "
             "got 'some'; e.g. serve = \"all\"",
             {"s.toml": _sc('serve = "all"', 'serve = "some"')}),
    BadInput("scenario-huge-cost", "scenario file", "a cost near the float limit (1e308)",
             ("solve", "s.toml"),
             "error: s.toml: types[1].cost = 1e+308 is out of range (at most 1e+09); state values "
             "in units where the numbers stay below a billion",
             {"s.toml": _sc("cost = 0.2\n", "cost = 1e308\n")}),
    BadInput("scenario-huge-scale", "scenario file", "a valuation scale of 1e300",
             ("solve", "s.toml"),
             "error: s.toml: valuation.scale = 1e+300 is out of range (at most 1e+09); state "
             "values in units where the numbers stay below a billion",
             {"s.toml": _sc("scale = 100.0", "scale = 1e300")}),
    # ---- CLI arguments
    BadInput("cli-belief", "CLI argument", "`solve --belief hope`",
             ("solve", "s.toml", "--belief", "hope"),
             "error: unknown belief 'hope'; use --belief bayes or --belief paper",
             {"s.toml": BASE}),
    BadInput("cli-serve-out-of-range", "CLI argument", "`solve --serve 1,9` (5 types)",
             ("solve", "s.toml", "--serve", "1,9"),
             "error: --serve names a type outside 1..5; use 1-based type numbers",
             {"s.toml": BASE}),
    BadInput("cli-serve-garbage", "CLI argument", "`solve --serve x`",
             ("solve", "s.toml", "--serve", "x"),
             "error: --serve 'x' is not all, optimal or a list of type numbers; e.g. --serve 1,2,3",
             {"s.toml": BASE}),
    BadInput("cli-rounds-zero", "CLI argument", "`simulate --rounds 0`",
             ("simulate", "s.toml", "--rounds", "0"),
             "error: rounds must be at least 2, got 0; e.g. 2000",
             {"s.toml": BASE}),
    BadInput("cli-tiers", "CLI argument", "`simulate --tiers magic`",
             ("simulate", "s.toml", "--tiers", "magic"),
             "error: unknown tier rule 'magic'; use lottery, deterministic or none",
             {"s.toml": BASE}),
    BadInput("cli-menu-missing", "CLI argument", "`simulate --menu` a missing file",
             ("simulate", "s.toml", "--menu", "nope.json"),
             "error: cannot read menu nope.json: [Errno 2] No such file or directory: "
             "'nope.json'; pass a menu written by `solve --out`",
             {"s.toml": BASE}),
    BadInput("cli-menu-not-json", "CLI argument", "`simulate --menu` a file that is not JSON",
             ("simulate", "s.toml", "--menu", "m.json"),
             "error: cannot read menu m.json: Expecting property name enclosed in double quotes: "
             "line 1 column 2 (char 1); pass a menu written by `solve --out`",
             {"s.toml": BASE, "m.json": "{not json"}),
    BadInput("cli-embedded-deploy", "CLI argument", "`coordinator deploy` on the embedded chain",
             ("coordinator", "deploy", "--scenario", "s.toml", "--dev-account", "0", "--chain",
              "embedded"),
             "error: a round deployed on the embedded chain vanishes when this command exits; "
             "deploy with --chain anvil or --rpc URL (or run `modelpact demo`)",
             {"s.toml": BASE}),
    BadInput("cli-window-too-short", "CLI argument",
             "`coordinator deploy` with a reveal window shorter than the contract's hour (issue 11)",
             ("coordinator", "deploy", "--scenario", "s.toml", "--dev-account", "0", "--chain",
              "embedded", "--reveal-window", "600"),
             "error: the reveal window of 600 s is shorter than the contract's minimum of 3600 s; "
             "pass --reveal-window 3600 or more (windows shorter than an hour let a congested "
             "chain cost participants their bonds)",
             {"s.toml": BASE}),
    BadInput("cli-no-deployment", "CLI argument", "`participant commit` with no deployment record",
             ("participant", "commit", "--keystore", "k.json", "--data", "d.csv"),
             "error: unknown deployment: no records in deploy; deploy with `modelpact "
             "coordinator deploy` or pass --deployment FILE",
             {"d.csv": "1,2,0\n"}),
    BadInput("cli-embedded-participant", "CLI argument", "`participant menu` on the embedded chain",
             ("participant", "menu", "--chain", "embedded"),
             "error: the embedded chain lives inside one process, so this command cannot reach a "
             "round deployed by another command; use --chain anvil (a node kept in --state-dir) or "
             "--rpc URL; `modelpact demo` runs a whole round on the embedded chain"),
    BadInput("cli-negative-bond", "CLI argument", "`coordinator deploy --participant-bond -1`",
             ("coordinator", "deploy", "--scenario", "s.toml", "--dev-account", "0",
              "--participant-bond", "-1", "--chain", "embedded"),
             "error: Invalid value for '--participant-bond': -1 is not in the range "
             "0<=x<=79228162514264337593543950335; see `modelpact coordinator deploy --help`",
             {"s.toml": BASE}),
    BadInput("cli-lottery-tiers", "CLI argument", "`simulate --lottery-tiers 1000` (the contract "
             "holds at most 32 tiers)",
             ("simulate", "s.toml", "--lottery-tiers", "1000"),
             "error: Invalid value for '--lottery-tiers': 1000 is not in the range 1<=x<=32; "
             "see `modelpact simulate --help`",
             {"s.toml": BASE}),
    BadInput("cli-dev-account-range", "CLI argument", "`--dev-account 99` (anvil has #0..#9)",
             ("coordinator", "deploy", "--scenario", "s.toml", "--dev-account", "99", "--chain",
              "anvil", "--state-dir", "st"),
             "error: the node has no dev account #99 (it has #0..#9); pass a --dev-account in "
             "that range, or sign with --keystore FILE",
             {"s.toml": BASE}),
    BadInput("cli-rpc-websocket", "CLI argument", "a websocket URL as `--rpc`",
             ("participant", "menu", "--rpc", "ws://127.0.0.1:8545"),
             "error: --rpc 'ws://127.0.0.1:8545' is a websocket URL; modelpact talks to nodes "
             "over HTTP JSON-RPC; pass the node's http(s) endpoint, e.g. --rpc "
             "http://127.0.0.1:8545"),
    BadInput("cli-test-split", "CLI argument", "`coordinator deploy --test-size 1700` (leaves "
             "too few rows for the menu)",
             ("coordinator", "deploy", "--scenario", "s.toml", "--dev-account", "0",
              "--test-size", "1700", "--chain", "anvil", "--state-dir", "st"),
             "error: a public test set of 1700 rows leaves 97 rows of digits for the "
             "participants, fewer than the 131 rows the menu's largest option asks; pass a "
             "smaller --test-size (at most 1666)",
             {"s.toml": (SCENARIOS / "digits_demo.toml").read_text()}),
    BadInput("cli-no-compensation", "CLI argument", "`coordinator deploy` of a scenario "
             "without `[valuation] unit_wei` (no curve compensation terms; SECURITY.md)",
             ("coordinator", "deploy", "--scenario", "s.toml", "--dev-account", "0",
              "--chain", "anvil", "--state-dir", "st"),
             "error: s.toml: no wei price of a value unit for curve compensation, so the round "
             "would owe nothing when the collective model falls short of its curve (tau = 1, "
             "rho = 0); add unit_wei = <wei per value unit> to [valuation] (and a curve "
             "tolerance or uncertainty, as `modelpact curve` writes), or pass --no-compensation "
             "to deploy a round that pays no curve compensation; nothing was sent",
             {"s.toml": "".join(line for line in (SCENARIOS / "digits_demo.toml").read_text()
                                .splitlines(keepends=True) if not line.startswith("unit_wei"))}),
    BadInput("cli-factory-address", "CLI argument", "`coordinator deploy --factory 0x1234`",
             ("coordinator", "deploy", "--scenario", "s.toml", "--dev-account", "0",
              "--factory", "0x1234", "--chain", "anvil", "--state-dir", "st"),
             "error: --factory '0x1234' is not an address; pass the factory address a previous "
             "`modelpact coordinator deploy` printed (0x and 40 hex digits), or omit --factory "
             "to deploy the shared contracts",
             {"s.toml": BASE}),
    BadInput("cli-factory-not-genuine", "CLI argument", "`coordinator deploy --factory` naming "
             "an address that holds no ModelpactFactory of this build (issue 17: verified before "
             "use)",
             ("coordinator", "deploy", "--scenario", "s.toml", "--dev-account", "0",
              "--factory", "0x000000000000000000000000000000000000dEaD", "--chain", "anvil",
              "--state-dir", "st"),
             "error: the factory 0x000000000000000000000000000000000000dEaD is not the "
             "ModelpactFactory this build compiles (no contract code); pass a factory deployed "
             "from this source (omit --factory to deploy one); nothing was sent",
             {"s.toml": (SCENARIOS / "digits_demo.toml").read_text()}),
    BadInput("cli-max-bond", "CLI argument", "`participant join --max-bond 1` on a round whose "
             "bond is higher (issue 11.3: checked before anything is signed)",
             ("participant", "join", "--keystore", "k.json", "--option", "0", "--max-bond", "1",
              "--chain", "anvil", "--state-dir", "st"),
             "error: the round asks a participant bond of 10000000000000000 wei, above "
             "--max-bond 1 wei; pass --max-bond WEI if you accept that bond; nothing was sent",
             deployed=True, keystore=True, chain=True),
    BadInput("cli-record-empty-abi", "CLI argument", "a deployment record whose ABI is empty",
             ("participant", "menu", "--deployment", "r.json", "--chain", "anvil", "--state-dir",
              "st"),
             "error: deployment record r.json field 'abi' holds no contract function (0 "
             "entries); the record was edited or truncated; restore it from the deployment "
             "output",
             {"r.json": _EMPTY_ABI_RECORD}),
    # ---- output files
    BadInput("output-folder", "output file", "`solve --out` a folder",
             ("solve", "s.toml", "--out", "."),
             "error: --out . is a folder; pass the path of a file (inside that folder or "
             "elsewhere)",
             {"s.toml": BASE}),
    BadInput("output-missing-folder", "output file", "`solve --out` in a folder that does not "
             "exist",
             ("solve", "s.toml", "--out", "nowhere/menu.json"),
             "error: --out nowhere/menu.json: folder nowhere does not exist; create it first "
             "(mkdir -p nowhere) or pass another path",
             {"s.toml": BASE}),
    BadInput("output-exists", "output file", "`solve --out` an existing file, without --force",
             ("solve", "s.toml", "--out", "menu.json"),
             "error: --out menu.json already exists; pass another path, or --force to replace it",
             {"s.toml": BASE, "menu.json": "{}"}),
    BadInput("output-keystore", "output file", "`solve --out` a keystore, even with --force",
             ("solve", "s.toml", "--out", "k.json", "--force"),
             "error: --out k.json is a keystore; modelpact never overwrites one, even with "
             "--force; pass another path",
             {"s.toml": BASE}, deployed=True, keystore=True),
    # ---- keystores
    BadInput("keystore-no-password", "keystore", "no MODELPACT_PASSWORD and no terminal",
             ("participant", "new-account", "--keystore", "new.json"),
             "error: no keystore password: MODELPACT_PASSWORD is not set and there is no "
             "terminal to ask on; set MODELPACT_PASSWORD in the environment of this command (or "
             "run it in a terminal)",
             password=False),
    BadInput("keystore-bad-key", "keystore", "`import-account` with a key that is not 32 bytes",
             ("participant", "import-account", "--keystore", "k.json", "--private-key-file",
              "key.txt"),
             "error: the private key is not a 32-byte hex string; pass the key as 0x followed by "
             "64 hex digits",
             {"key.txt": "0x1234\n"}),
    BadInput("keystore-missing-key-file", "keystore", "`import-account` with a missing key file",
             ("participant", "import-account", "--keystore", "k.json", "--private-key-file",
              "nokey.txt"),
             "error: cannot read private key file nokey.txt: No such file or directory; pass "
             "--private-key-file with the path of a file holding the hex key"),
    BadInput("keystore-exists", "keystore", "`new-account` over an existing keystore",
             ("participant", "new-account", "--keystore", "k.json"),
             "error: keystore k.json already exists; choose another --keystore path or delete the "
             "old file if you are sure",
             {"k.json": "{}"}),
    BadInput("keystore-missing", "keystore", "a keystore path that does not exist",
             ("participant", "commit", "--keystore", "nok.json", "--data", "d.csv"),
             "error: no keystore at nok.json; create one with `modelpact participant new-account "
             "--keystore PATH` or pass the right --keystore",
             {"d.csv": "1,2,0\n"}, deployed=True),
    BadInput("keystore-corrupt", "keystore", "a keystore that is not JSON",
             ("participant", "commit", "--keystore", "bad.json", "--data", "d.csv"),
             "error: keystore bad.json is not valid JSON; restore the file from your backup",
             {"bad.json": "{not json", "d.csv": "1,2,0\n"}, deployed=True),
    # ---- datasets
    BadInput("dataset-missing", "dataset", "`commit --data` a missing file",
             ("participant", "commit", "--keystore", "k.json", "--data", "none.csv"),
             "error: dataset file none.csv does not exist; check the path",
             deployed=True, keystore=True),
    BadInput("dataset-not-integer", "dataset", "a non-numeric value",
             ("participant", "commit", "--keystore", "k.json", "--data", "d.csv"),
             "error: d.csv row 0 column 1 is 'a', not an integer; quantise real-valued features "
             "to integers first",
             {"d.csv": "1,a,0\n"}, deployed=True, keystore=True),
    BadInput("dataset-fractional", "dataset", "a real-valued feature",
             ("participant", "commit", "--keystore", "k.json", "--data", "d.csv"),
             "error: d.csv row 0 column 0 is '1.5', not an integer; quantise real-valued features "
             "to integers first",
             {"d.csv": "1.5,2,0\n"}, deployed=True, keystore=True),
    BadInput("dataset-ragged", "dataset", "rows of different lengths",
             ("participant", "commit", "--keystore", "k.json", "--data", "d.csv"),
             "error: d.csv row 1 has 2 columns, expected 3; every row needs the same columns "
             "(features, then the label)",
             {"d.csv": "1,2,0\n1,2\n"}, deployed=True, keystore=True),
    BadInput("dataset-empty", "dataset", "an empty file",
             ("participant", "commit", "--keystore", "k.json", "--data", "d.csv"),
             "error: dataset file d.csv is empty; give at least one row",
             {"d.csv": ""}, deployed=True, keystore=True),
    BadInput("dataset-extension", "dataset", "neither .csv nor .npy",
             ("participant", "commit", "--keystore", "k.json", "--data", "d.txt"),
             "error: cannot read d.txt: unknown extension; use a .csv or .npy file",
             {"d.txt": "1,2,0\n"}, deployed=True, keystore=True),
    BadInput("dataset-wrong-width", "dataset", "rows of the wrong width for the round's dataset",
             ("participant", "commit", "--keystore", "k.json", "--data", "d.csv"),
             "error: digits rows have 3 columns, expected 65; give 64 features then the label in "
             "the last column",
             {"d.csv": "1,2,0\n"}, deployed=True, keystore=True),
    BadInput("dataset-separator", "dataset", "columns separated by ';'",
             ("participant", "commit", "--keystore", "k.json", "--data", "d.csv"),
             "error: d.csv separates its columns with ';', not commas; save the file as "
             "comma-separated values (features, then the label)",
             {"d.csv": "1;2;0\n"}, deployed=True, keystore=True),
    BadInput("dataset-folder", "dataset", "a folder given as the dataset file",
             ("participant", "commit", "--keystore", "k.json", "--data", "deploy"),
             "error: dataset file deploy is a folder; pass the .csv or .npy file itself",
             deployed=True, keystore=True),
)  # fmt: skip


@dataclass(frozen=True)
class BadCall:
    """A contract call a user (or a hostile participant/coordinator) can make, and its line."""

    case: str
    what: str
    message: str


CONTRACT_CASES: tuple[BadCall, ...] = (
    BadCall(
        "join-wrong-bond",
        "join with a bond that is not the participant bond",
        "error: join reverted: WrongBond(10000000000000000, 1); send exactly the participant bond from config()",
    ),
    BadCall(
        "join-wrong-rows",
        "join committing a row count the option does not ask for",
        "error: join reverted: WrongRowCount(0, 10, 11); commit exactly the option's dataCount rows",
    ),
    BadCall(
        "join-unknown-option",
        "join an option that does not exist",
        "error: join reverted: UnknownOption(7, 2); pick an option id below optionCount()",
    ),
    BadCall(
        "join-twice",
        "join a second time from the same address",
        "error: join reverted: AlreadyJoined(0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF); each address joins once: use another account for another entry",
    ),
    BadCall(
        "join-copied-root",
        "join with another participant's data root (issue 11.6)",
        "error: join reverted: DuplicateDataRoot(0x698d50823cbd8782ba48736ceac5e43039d45f9289377295d679647636333859); this data root is already committed: build your tree over your own address and rows",
    ),
    BadCall(
        "reveal-early",
        "reveal before the models are posted",
        "error: reveal reverted: WrongPhase(JOIN, REVEAL); wait for the required phase: see phase() and deadlines()",
    ),
    BadCall(
        "coordinator-not",
        "reveal the coordinator secret from another address",
        "error: revealCoordinator reverted: NotCoordinator(0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF); send this action from the coordinator's account",
    ),
    BadCall(
        "coordinator-wrong-secret",
        "coordinator reveals a wrong secret",
        "error: revealCoordinator reverted: CoordinatorRevealMismatch(0x2b7df73ec3c3fa375b0943589f579d4d618feeb9c05fbffeef7c495005ccd429, 0x549b45875675692df812ba1cd0a41c86cb4c5ff5bb9550271a1fbd165bf967c5); reveal the exact secret whose commitment was deployed",
    ),
    BadCall(
        "post-in-data-window",
        "post models before the data window after joining has closed",
        "error: postModels reverted: DataWindowOpen(<time>, <time>); wait until dataDeadline() has passed: participants have MIN_WINDOW after joining closes to deliver their data",
    ),
    BadCall(
        "post-tier-at-collective",
        "post a tier as good as the collective model",
        "error: postModels reverted: TierAboveCollective(0, 800000000000000000, 800000000000000000); make every tier strictly worse than the collective model (the budget constraint)",
    ),
    BadCall(
        "post-below-quorum",
        "post models although fewer than quorum participants delivered",
        "error: postModels reverted: BelowQuorum(1, 2); fewer than quorum participants delivered: call cancelBelowQuorum instead of postModels",
    ),
    BadCall(
        "reveal-wrong-secret",
        "participant reveals a secret it did not commit",
        "error: reveal reverted: RevealMismatch(0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69, 0x989bec901a0d6453775412446ad605cceef9c80410fd49b2f81ca9f518189fe0, 0x5368997f42344ef060aece6e69b73c5ef7989087a94ee8cd8b252cb971ade954); send the data root, secret and delivery key committed at join, from the joining account",
    ),
    BadCall(
        "claim-unrevealed",
        "claim without having revealed",
        "error: claim reverted: NotRevealed(0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69); a participant who did not reveal forfeits its bond and model: nothing to claim",
    ),
    BadCall(
        "sweep-early",
        "sweep before the claim deadline",
        "error: sweep reverted: SweepTooEarly(<time>, <time>); sweep after the claim deadline (at once after a default or a cancel)",
    ),
)


def _contract_errors() -> dict[str, str]:
    """Run every bad call on a fresh round on the embedded chain; the line the CLI would print."""
    from modelpact.delivery import public_key

    chain = ch.connect(chain="embedded")
    coordinator = chain.local_account(0)
    secret = enc.keccak256(b"coordinator secret")  # fixed: the lines show its commitment
    scenario = enc.keccak256(b"bad-input")
    config = enc.RoundConfig(
        capacity=3,
        participant_bond=10**16,
        scenario_hash=scenario,
        test_set_commitment=enc.keccak256(b"t"),
        coordinator_commitment=enc.coordinator_commitment(
            secret, coordinator.address, scenario, chain.chain_id
        ),
        schedule=enc.Schedule.after(
            ch.chain_time(chain), join=100, post=enc.MIN_WINDOW_SECONDS + 100
        ),
        quorum=2,
        test_row_count=10,
    )
    menu = (
        enc.OnchainOption(10, 3 * 10**17, 3 * 10**17, 10**18),
        enc.OnchainOption(20, 10**18, 10**18, 10**18),
    )
    rc = ch.deploy_round(
        chain, sender=coordinator, menu_options=menu, config=config, coordinator_bond=10**17,
        compiled=compile_round(),
    )  # fmt: skip
    a, b = chain.local_account(1), chain.local_account(2)
    sa = enc.keccak256(b"participant secret")
    point = public_key(7)
    key = (point.x, point.y)

    def root(who: Any) -> bytes:
        return enc.participant_dataset_root(who.address, [[1, 2]])

    def join(
        who: Any, option: int = 0, rows: int = 10, value: int = 10**16, data: bytes | None = None
    ) -> Any:
        c = enc.participant_commitment_v2(sa, *key, who.address, rc.address, chain.chain_id)
        return rc.join(who, option_id=option, data_root=data or root(who), row_count=rows,
                       commitment=c, value=value)  # fmt: skip

    def model(name: bytes, accuracy: int) -> enc.Tier:
        return enc.Tier(enc.model_hash(name), accuracy, enc.keccak256(b"log" + name))

    seen: dict[str, str] = {}

    def bad(case: str, fn: Callable[[], Any]) -> None:
        with pytest.raises(ch.ContractRevertError) as info:
            fn()
        # Block timestamps vary from run to run: shown as <time>.
        seen[case] = re.sub(r"\b1\d{9}\b", "<time>", f"error: {info.value.one_line()}")

    bad("join-wrong-bond", lambda: join(a, value=1))
    bad("join-wrong-rows", lambda: join(a, rows=11))
    bad("join-unknown-option", lambda: join(a, option=7))
    join(a)
    bad("join-twice", lambda: join(a))
    bad("join-copied-root", lambda: join(b, data=root(a)))
    join(b)
    bad("reveal-early", lambda: rc.reveal(a, data_root=root(a), secret=sa, delivery_key=key))
    ch.advance_time(chain, 101)
    bad("coordinator-not", lambda: rc.reveal_coordinator(a, secret))
    bad("coordinator-wrong-secret", lambda: rc.reveal_coordinator(coordinator, sa))
    rc.reveal_coordinator(coordinator, secret)
    collective = model(b"c", 8 * 10**17)
    logs = [bytes(enc.PACKED_LOG_ROW_BYTES * 10)] * 2  # stand-ins of the right length
    bad("post-in-data-window", lambda: rc.post_models(
        coordinator, collective=collective, logs=logs[:1]))  # fmt: skip
    ch.advance_time(chain, enc.MIN_WINDOW_SECONDS)  # past the data window
    bad("post-tier-at-collective", lambda: rc.post_models(
        coordinator, collective=collective, logs=logs, tiers=[model(b"t", 8 * 10**17)]))  # fmt: skip
    bad("post-below-quorum", lambda: rc.post_models(
        coordinator, collective=collective, logs=logs[:1], undelivered=[b.address]))  # fmt: skip
    rc.post_models(coordinator, collective=collective, logs=logs[:1])
    guess = enc.keccak256(b"guess")
    bad(
        "reveal-wrong-secret",
        lambda: rc.reveal(b, data_root=root(b), secret=guess, delivery_key=key),
    )
    rc.reveal(a, data_root=root(a), secret=sa, delivery_key=key)
    ch.advance_time(chain, rc.deadlines().reveal - ch.chain_time(chain) + 1)
    bad("claim-unrevealed", lambda: rc.claim(b, data_root=root(b), secret=sa, delivery_key=key))
    bad("sweep-early", lambda: rc.sweep(coordinator))
    return seen


def _expected_contract_lines() -> dict[str, str]:
    return {c.case: c.message for c in CONTRACT_CASES}


# ------------------------------------------------------------------ CLI cases


@pytest.fixture(scope="module")
def deployed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real deployment record (coordinator deploy on anvil) and a valid keystore k.json."""
    d = tmp_path_factory.mktemp("deployed")
    env = dict(os.environ, MODELPACT_PASSWORD="pw")
    run = [sys.executable, "-m", "modelpact"]
    scenario = str(SCENARIOS / "digits_demo.toml")
    for args in (
        ["coordinator", "deploy", "--scenario", scenario, "--dev-account", "0", "--chain", "anvil",
         "--state-dir", "st"],
        ["participant", "new-account", "--keystore", "k.json"],
    ):  # fmt: skip
        done = subprocess.run([*run, *args], cwd=d, env=env, capture_output=True, text=True,
                              timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
    return d


@pytest.mark.parametrize("bad", CLI_CASES, ids=[c.case for c in CLI_CASES])
def test_cli_bad_input_prints_one_line(bad: BadInput, tmp_path: Path, request: Any) -> None:
    """The real entry point, given this bad input, exits 2 and prints exactly the table's one
    line on stderr (what was wrong; how to fix it) and nothing else: no traceback."""
    if bad.deployed:
        source: Path = request.getfixturevalue("deployed_dir")
        shutil.copytree(source / "deploy", tmp_path / "deploy")
        if bad.keystore:
            shutil.copy(source / "k.json", tmp_path / "k.json")
        if bad.chain:
            shutil.copytree(source / "st", tmp_path / "st")
    for name, text in bad.files.items():
        (tmp_path / name).write_text(text)
    env = dict(os.environ, MODELPACT_PASSWORD="pw")
    if not bad.password:
        del env["MODELPACT_PASSWORD"]
    done = subprocess.run(
        [sys.executable, "-m", "modelpact", *bad.args],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,  # no terminal: a prompt must not wait or read garbage
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [bad.message]


def test_contract_bad_calls_name_the_error() -> None:
    """Each bad contract call reverts with a named error whose one line (as the CLI prints it)
    is exactly the table's line."""
    assert _contract_errors() == _expected_contract_lines()


# ------------------------------------------------------------------ README


def readme_table() -> str:
    """The README "Bad input" table, generated from the tested data."""

    def cell(text: str) -> str:
        return "`" + text.replace("|", "\\|") + "`"

    rows = ["| # | where | bad input | what the user sees (exit 2) |", "|---|---|---|---|"]
    n = 0
    for c in CLI_CASES:
        n += 1
        rows.append(f"| {n} | {c.where} | {c.what} | {cell(c.message)} |")
    for k in CONTRACT_CASES:
        n += 1
        rows.append(f"| {n} | contract call | {k.what} | {cell(k.message)} |")
    return "\n".join(rows) + "\n"


def test_readme_table_matches_tested_messages() -> None:
    """README.md's "Bad input" section holds exactly the table generated from this file's data,
    which the tests above check against the real program: the documentation cannot drift."""
    readme = (ROOT / "README.md").read_text()
    assert "## Bad input" in readme
    section = readme.split("## Bad input", 1)[1]
    assert readme_table() in section
    assert len(CLI_CASES) + len(CONTRACT_CASES) >= 30


if __name__ == "__main__":  # pragma: no cover - regenerate the README table or the messages
    if sys.argv[1:] == ["--contract-lines"]:
        for case, line in _contract_errors().items():
            print(f"{case}\t{line}")
    else:
        sys.stdout.write(readme_table())
