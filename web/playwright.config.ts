// Playwright against Debian's Chromium (/usr/bin/chromium; the tool's own
// browser download does not work here), the built app served by
// scripts/serve.mjs, and the localnet named by WEVALUE_LOCALNET_DIR with the
// suite deployed by scripts/deploy-web.mjs. ci/web-test.sh sets it all up.
import { defineConfig } from "@playwright/test";

const port = Number(process.env.WEVALUE_WEB_PORT ?? 8080 + Number(process.env.WEVALUE_LOCALNET_PORT_OFFSET ?? 0));
const target = process.env.WEVALUE_WEB_TARGET ?? "../target";

export default defineConfig({
  testDir: "e2e",
  // One chain, one browser: the specs run one after the other (2 cores).
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 240_000,
  expect: { timeout: 20_000 },
  forbidOnly: true,
  reporter: [["list"], ["json", { outputFile: `${target}/web-test-results/results.json` }]],
  outputDir: `${target}/web-test-results/artifacts`,
  use: {
    baseURL: `http://127.0.0.1:${port}/`,
    launchOptions: { executablePath: "/usr/bin/chromium" },
    viewport: { width: 1280, height: 900 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
  },
  webServer: {
    command: `node scripts/serve.mjs --port ${port}`,
    url: `http://127.0.0.1:${port}/config.json`,
    reuseExistingServer: false,
    stdout: "pipe",
    timeout: 30_000,
  },
});
