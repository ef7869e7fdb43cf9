// Hardhat 3 node for the tests and the README walkthrough: `scripts/hardhat-node --port 8545`.
//
// The same chain id, accounts and balances as the anvil node modelpact manages (chain id 31337,
// the well-known "test test ... junk" development mnemonic, whose keys modelpact derives for its
// --dev-account option), and the contract's EVM version: Cancun, the first hardfork with the
// transient storage (EIP-1153) the round's reentrancy guard uses.
import os from "node:os";
import path from "node:path";

// `hardhat node` writes build-info files even with no sources to build: keep them out of the
// checkout (the test fixture points this at its own temporary folder).
const scratch =
  process.env.MODELPACT_HARDHAT_DIR ?? path.join(os.tmpdir(), "modelpact-hardhat");

export default {
  paths: {
    artifacts: path.join(scratch, "artifacts"),
    cache: path.join(scratch, "cache"),
  },
  networks: {
    default: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: 31337,
      hardfork: "cancun",
      accounts: {
        mnemonic: "test test test test test test test test test test test junk",
        count: 10,
        accountsBalance: "10000000000000000000000",
      },
    },
  },
};
