// Control instructions that move between domains: CALL, CALLW, RETURN, FORK,
// YIELD, HALT. KeyKOS semantics: CALL hands the callee a fresh one-shot resume key
// to the caller; RETURN through it wakes the caller; using it voids every copy.
// CALL, CALLW and RETURN are on the switch path: literal layout numbers (see cpu/transfer.ts).
import {
  type DomainSlot,
  type DomainState,
  fail,
  type Key,
  KeyKind,
  type KeyPage,
  NULL_KEY,
} from '@keyvm/core';
import { INSTRUCTIONS, Op, operandPositions } from '@keyvm/isa';
import { Next } from '../cpu/constants.js';
import type { Cpu } from '../cpu.js';
import { ownSlot, slotKey, takeOperands } from './operands.js';

// Where each instruction's operands sit, read from the table's operands column
// (CALL's are CALLW's first two).
const CALLW = operandPositions(INSTRUCTIONS[Op.CALLW]);
const RETURN = operandPositions(INSTRUCTIONS[Op.RETURN]);
const FORK = operandPositions(INSTRUCTIONS[Op.FORK]);

const stateOf = (page: KeyPage): number => page.slots[3 satisfies typeof DomainSlot.STATE]!.value;

function call(cpu: Cpu, withWord: boolean): void {
  const o = takeOperands(cpu, withWord ? Op.CALLW : Op.CALL);
  const store = cpu.store;
  const callee = store.domain(slotKey(cpu, o[CALLW.target]!));
  const message = ownSlot(cpu, o[CALLW.msg]!);
  const caller = cpu.domain!;
  // deliver() checks the callee can take the call before changing anything.
  cpu.deliver(callee, message, store.resumeKey(caller), withWord ? o[CALLW.word]! : null);
  cpu.ip += 1;
  cpu.setState(
    caller,
    withWord ? (6 satisfies typeof DomainState.waitingWord) : (2 satisfies typeof DomainState.waiting),
  );
  cpu.suspend();
  cpu.activate(callee);
}

/**
 * CALL, CALLW or RETURN: the dispatch loop runs them itself (from its fuel, or by its slow path) and
 * then enters the domain they activated; they never reach the heavy dispatcher.
 */
export function transfer(cpu: Cpu, op: number): void {
  if (op === (39 satisfies typeof Op.RETURN)) returnOp(cpu);
  else call(cpu, op === (38 satisfies typeof Op.CALLW));
}

/**
 * Wake `target` through the resume key `resume` with a reply key and word. A
 * waiting caller gets the key in RECV (and the word pushed, after CALLW); a
 * faulted domain (restart key) simply continues. Checks everything first.
 */
function resumeThrough(cpu: Cpu, resume: Key, reply: typeof NULL_KEY, word: number): KeyPage {
  const store = cpu.store;
  const target = store.deref(resume) as KeyPage | undefined;
  if (resume.kind !== (5 satisfies typeof KeyKind.resume) || target?.resumeGen !== resume.value) {
    fail(
      store.normalize(resume).kind === KeyKind.null ? 'null-key' : 'wrong-kind',
      'RETURN needs a resume key',
    );
  }
  const state = stateOf(target);
  if (
    state !== (2 satisfies typeof DomainState.waiting) &&
    state !== (6 satisfies typeof DomainState.waitingWord) &&
    state !== (3 satisfies typeof DomainState.faulted)
  ) {
    fail('busy', `domain #${target.id} is not waiting to be resumed`);
  }
  if (state === (6 satisfies typeof DomainState.waitingWord)) cpu.pushOnto(target, word, true);
  store.consumeResume(resume);
  if (state !== (3 satisfies typeof DomainState.faulted))
    target.slots[9 satisfies typeof DomainSlot.RECV] = reply;
  if (state === (6 satisfies typeof DomainState.waitingWord)) cpu.pushOnto(target, word, false);
  cpu.setState(target, 1 satisfies typeof DomainState.running);
  return target;
}

function returnOp(cpu: Cpu): void {
  const o = takeOperands(cpu, Op.RETURN);
  const resume = slotKey(cpu, o[RETURN.resume]!);
  const reply = ownSlot(cpu, o[RETURN.key]!);
  const me = cpu.domain!;
  const target = resumeThrough(cpu, resume, reply, o[RETURN.word]!);
  cpu.ip += 1;
  cpu.setState(me, 0 satisfies typeof DomainState.available);
  cpu.suspend();
  cpu.activate(target);
}

export function forkOp(cpu: Cpu): Next {
  const o = takeOperands(cpu, Op.FORK);
  const target = cpu.store.domain(ownSlot(cpu, o[FORK.target]!));
  cpu.deliver(target, ownSlot(cpu, o[FORK.msg]!), NULL_KEY, null);
  cpu.enqueue(target);
  cpu.ip += 1;
  return Next.continue;
}

export function yieldOp(cpu: Cpu): Next {
  const me = cpu.domain!;
  cpu.ip += 1;
  cpu.suspend();
  cpu.enqueue(me);
  cpu.idle();
  return Next.switched;
}

export function haltOp(cpu: Cpu): Next {
  cpu.ip += 1;
  cpu.halt();
  return Next.switched;
}
