/**
 * The game wire types, from their new protocol module. One re-export so that, once the lead
 * exports server/protocol/src/games.ts from @tutti/protocol, only this line changes.
 */
export * from '../../protocol/src/games.ts';
