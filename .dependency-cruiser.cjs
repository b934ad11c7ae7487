/**
 * hil's import rules (docs: DEVELOPERS.md "Layout"; `npm run check` runs them). Layers run one way:
 * cli → farm → sweep → run → board → link (farm: the board farm, the only user of the job queue); engine, metrics and data are pure leaves; spec (generated) and quant
 * depend on nothing of ours. A rule here names what a module may not import, with why.
 */
const layer = (name) => `^src/${name}/`;

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'modules that import each other cannot be understood or tested one at a time', from: { path: '^src/' }, to: { circular: true } },
    { name: 'src-not-tests', severity: 'error', comment: 'the product never depends on test harnesses or developer scripts', from: { path: '^src/' }, to: { path: '^(test|scripts)/' } },
    { name: 'nothing-imports-cli', severity: 'error', comment: 'cli is the top layer: domain code lives below it', from: { path: '^src/', pathNot: layer('cli') }, to: { path: layer('cli') } },
    { name: 'tests-not-cli', severity: 'error', comment: 'tests and scripts call the domain modules, not the command-line wrappers', from: { path: '^(test|scripts)/' }, to: { path: layer('cli') } },
    { name: 'only-cli-imports-farm', severity: 'error', comment: 'cli → farm → sweep: the farm runs sweeps, nothing below it knows there is one', from: { path: '^src/', pathNot: layer('(cli|farm)') }, to: { path: layer('farm') } },
    { name: 'queue-engine-in-farm', severity: 'error', comment: 'the job queue and its Redis client are the farm\'s business: a local sweep or run never loads them', from: { path: '^src/', pathNot: layer('farm') }, to: { path: 'node_modules/(bullmq|ioredis)/' } },
    { name: 'sweep-below-cli', severity: 'error', comment: 'cli → sweep → run → board → link', from: { path: layer('(run|board|link|report)') }, to: { path: layer('sweep') } },
    { name: 'run-below-sweep', severity: 'error', comment: 'cli → sweep → run → board → link', from: { path: layer('(board|link|report)') }, to: { path: layer('run') } },
    { name: 'board-below-run', severity: 'error', comment: 'the link knows bytes and frames, not boards', from: { path: layer('link') }, to: { path: layer('board') } },
    { name: 'engine-is-a-leaf', severity: 'error', comment: 'the bit-exact engine imports neither model nor board: only the spec, quantization helpers and utilities', from: { path: layer('engine') }, to: { path: '^src/', pathNot: layer('(engine|spec|quant|util)') } },
    { name: 'metrics-are-pure', severity: 'error', comment: 'metrics are pure functions of samples: no I/O, no other stage', from: { path: layer('metrics') }, to: { path: '^src/', pathNot: layer('(metrics|util)') } },
    { name: 'metrics-no-io', severity: 'error', comment: 'metrics are pure functions of samples: no file system or processes', from: { path: layer('metrics') }, to: { path: '^(node:)?(fs|child_process|net)$', dependencyTypes: ['core'] } },
    { name: 'data-is-a-leaf', severity: 'error', comment: 'the corpus depends on no later stage', from: { path: layer('data') }, to: { path: '^src/', pathNot: layer('(data|util|metrics|spec)') } },
    { name: 'model-before-export', severity: 'error', comment: 'export lowers a model; a model never reaches into export', from: { path: layer('model') }, to: { path: layer('export') } },
    { name: 'spec-and-quant-are-leaves', severity: 'error', comment: 'generated constants and quantization math depend on nothing of ours but utilities', from: { path: layer('(spec|quant)') }, to: { path: '^src/', pathNot: layer('(spec|quant|util)') } },
    { name: 'util-is-a-leaf', severity: 'error', comment: 'utilities serve every stage and import none', from: { path: layer('util') }, to: { path: '^src/', pathNot: layer('util') } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.check.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
