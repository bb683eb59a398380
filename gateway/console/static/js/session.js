// The signed-in key: kept in sessionStorage (this tab only, gone when it closes), sent as the
// X-API-Key header, never put in a URL and never written to the console log.
const STORE = "cityvitals.key";
const listeners = new Set();

export const session = {
  who: null, // {id, name, role} from /v1/whoami

  key() {
    return sessionStorage.getItem(STORE);
  },

  keep(key) {
    sessionStorage.setItem(STORE, key);
  },

  forget() {
    sessionStorage.removeItem(STORE);
    this.who = null;
  },

  // The API refused the key (revoked, expired): back to the sign-in form.
  refused() {
    this.forget();
    for (const listener of listeners) listener();
  },

  onRefused(listener) {
    listeners.add(listener);
  },
};
