import { OutcomeType, type Outcome } from '@reco/contracts';
import type { Effect, OutcomeKind } from './attribution';

const TYPE: Record<OutcomeKind, OutcomeType> = {
  click: OutcomeType.OUTCOME_TYPE_CLICK,
  add_to_cart: OutcomeType.OUTCOME_TYPE_ADD_TO_CART,
  purchase: OutcomeType.OUTCOME_TYPE_PURCHASE,
};

const TYPE_NAME: Record<OutcomeType, string> = {
  [OutcomeType.OUTCOME_TYPE_UNSPECIFIED]: 'unspecified',
  [OutcomeType.OUTCOME_TYPE_CLICK]: 'click',
  [OutcomeType.OUTCOME_TYPE_ADD_TO_CART]: 'add_to_cart',
  [OutcomeType.OUTCOME_TYPE_PURCHASE]: 'purchase',
  [OutcomeType.OUTCOME_TYPE_SKIP]: 'skip',
  [OutcomeType.UNRECOGNIZED]: 'unrecognized',
};

export const outcomeTypeName = (t: OutcomeType): string => TYPE_NAME[t];

/** The labeled outcome of an attribution or skip effect; null for other effects. */
export function outcomeOf(effect: Effect): Outcome | null {
  if (effect.type === 'outcome') {
    const { impression: imp, event, item } = effect;
    const type = TYPE[effect.kind];
    return {
      outcomeId: `${imp.requestId}/${item.itemId}/${TYPE_NAME[type]}/${event.eventId}`,
      requestId: imp.requestId,
      userId: effect.userId,
      itemId: item.itemId,
      position: item.position,
      type,
      modelVersion: imp.modelVersion,
      experimentArm: imp.arm,
      surface: imp.surface,
      impressionTime: new Date(imp.time),
      eventTime: new Date(event.time),
      eventId: event.eventId,
      revenue: event.revenue,
    };
  }
  if (effect.type === 'skip') {
    const { impression: imp, item } = effect;
    return {
      outcomeId: `${imp.requestId}/${item.itemId}/skip/`,
      requestId: imp.requestId,
      userId: effect.userId,
      itemId: item.itemId,
      position: item.position,
      type: OutcomeType.OUTCOME_TYPE_SKIP,
      modelVersion: imp.modelVersion,
      experimentArm: imp.arm,
      surface: imp.surface,
      impressionTime: new Date(imp.time),
      eventTime: undefined,
      eventId: '',
      revenue: 0,
    };
  }
  return null;
}
