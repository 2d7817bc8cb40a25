// The parts of the extension that need the validator (zod, jsonc-parser) or the parser (web-tree-sitter).
// Bundled apart as dist/lazy.js and required on first use, so that loading and activating stays light.
export { classifyDiff } from '../core/classifier/classify.js';
export { gitDiff, gitRepoReader } from '../core/classifier/gitRepo.js';
export { parsePolicyText } from '../core/policy/load.js';
export { ExplainPanel } from './commands/explain.js';
export { EditorModelCalls } from './modelCalls.js';
export { BudgetService } from './budget.js';
export { RuntimeService } from './runtime.js';
export { TutorPanel } from './tutor.js';
export { PlanService } from './plan.js';
export { AgentService } from './agent.js';
export { JudgeService } from './judge.js';
export { SpecCompliance } from './specCompliance.js';
export { Stage0Service } from './context.js';
export { LibrarianService } from './librarian.js';
export { startTask } from './startTask.js';
