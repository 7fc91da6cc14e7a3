// List: Bots.Business's `new List({name, user_id})` for lists of users (see list_core.js).
globalThis.List = __bbList.List;
