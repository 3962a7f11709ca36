// Lint for the extension and the tests: eslint's recommended rules plus a few that catch
// real mistakes in this code base (unused code, loose equality, shadowed names).
'use strict';
const js = require('@eslint/js');
const globals = require('globals');

const strict = {
  'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'none', varsIgnorePattern: '^_' }],
  eqeqeq: ['error', 'always'],
  'no-shadow': 'error',
  'prefer-const': 'error',
  'no-var': 'error',
};

module.exports = [
  { ignores: ['dist/**', 'target/**', 'node_modules/**', 'core/**'] },
  js.configs.recommended,
  {
    files: ['extension/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.browser, ...globals.serviceworker, chrome: 'readonly', CtiMessages: 'readonly' },
    },
    rules: strict,
  },
  {
    // Classic scripts: content scripts and the messages global.
    files: ['extension/content.js', 'extension/hook.js', 'extension/messages.js', 'extension/click-to-dial.js'],
    languageOptions: { sourceType: 'script' },
  },
  {
    // It defines the global itself.
    files: ['extension/messages.js'],
    languageOptions: { globals: { CtiMessages: 'off' } },
  },
  {
    // Build scripts run in Node only (scripts/release.js: the id and the release files).
    files: ['scripts/**/*.js'],
    languageOptions: { ecmaVersion: 2023, sourceType: 'commonjs', globals: globals.node },
    rules: strict,
  },
  {
    files: ['tests/**/*.js', 'eslint.config.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'commonjs',
      // Functions handed to page.evaluate run in the browser.
      globals: { ...globals.node, ...globals.browser, chrome: 'readonly', CtiSettings: 'readonly' },
    },
    rules: strict,
  },
];
