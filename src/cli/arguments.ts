import { InvalidArgumentError } from 'commander';
import { strategyNames, strategyNameSchema, type StrategyName } from '../search/config.js';

/** Commander argument parsers that reject bad values with a message naming the rule. */
export const integer = (min: number) => (text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`must be an integer >= ${min}`);
  return value;
};

export const nonNegative = (text: string): number => {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError('must be a number >= 0');
  return value;
};

export const strategy = (text: string): StrategyName => {
  const parsed = strategyNameSchema.safeParse(text);
  if (!parsed.success) throw new InvalidArgumentError(`must be one of ${strategyNames.join(', ')}, got '${text}'`);
  return parsed.data;
};
