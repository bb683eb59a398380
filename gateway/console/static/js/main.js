// The console's start: labels, the session (sign-in with an API key), the header and the page
// for the current path.
import { api } from "./api.js";
import { applyLabels, clockText, loadLabels, switchLang, t } from "./i18n.js";
import { ROUTES, routeFor } from "./router.js";
import { session } from "./session.js";

const main = document.getElementById("page");
const signIn = document.getElementById("sign-in");
const signInForm = document.getElementById("sign-in-form");
const keyInput = document.getElementById("sign-in-key");
const signInProblem = document.getElementById("sign-in-problem");
let page = null;

function setLive(state) {
  const live = document.getElementById("live");
  live.dataset.state = state;
  live.textContent = t(`live.${state}`);
  live.hidden = false;
}

// A page's link is drawn for the roles that may use it (`roles`), never for a link-only page.
function inNavigation(route, role) {
  return route.nav !== false && (!route.roles || route.roles.includes(role));
}

function drawHeader() {
  const who = document.getElementById("who");
  const out = document.getElementById("sign-out");
  if (session.who) {
    const role = t(`role.${session.who.role}`);
    who.textContent = t("session.signed_in_as", { name: session.who.name, role });
    who.dataset.role = session.who.role;
    out.hidden = false;
  } else {
    who.textContent = "";
    delete who.dataset.role;
    out.hidden = true;
  }
  const nav = document.getElementById("nav");
  const linked = session.who ? ROUTES.filter((r) => inNavigation(r, session.who.role)) : [];
  nav.replaceChildren(
    ...linked.map((route) => {
      const link = document.createElement("a");
      link.href = route.path;
      link.textContent = t(route.label);
      if (route.label === routeFor(location.pathname)?.label) link.setAttribute("aria-current", "page");
      return link;
    }),
  );
  const live = document.getElementById("live");
  live.hidden = !session.who || !live.dataset.state; // only pages with a stream say it
  if (live.dataset.state) live.textContent = t(`live.${live.dataset.state}`);
}

function showSignIn(message = "") {
  page?.unmount();
  page = null;
  main.replaceChildren();
  drawHeader();
  signIn.hidden = false;
  signInProblem.textContent = message;
  signInProblem.hidden = !message;
  keyInput.value = "";
  keyInput.focus();
}

async function showPage() {
  signIn.hidden = true;
  drawHeader();
  const route = routeFor(location.pathname);
  if (!route) return; // the gateway serves no other path
  page = route.page({ onLive: setLive, params: route.params });
  await page.mount(main);
}

// Who the kept key is; false (and the sign-in form, saying why) when it is refused. A wall
// whose gateway is away (a restart, the network) keeps its key and asks again until it is back.
async function identify({ typed = false } = {}) {
  for (;;) {
    try {
      session.who = await api("/v1/whoami");
      return true;
    } catch (error) {
      const refused = error.status === 401 || error.status === 403;
      if (refused || typed) {
        session.forget();
        const why = refused ? "session.refused" : "session.unreachable";
        showSignIn(t(why, { detail: error.message }));
        return false;
      }
      const live = document.getElementById("live");
      live.hidden = false;
      setLive("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
}

signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (!key) return;
  signInProblem.hidden = false;
  signInProblem.textContent = t("session.checking");
  session.keep(key);
  keyInput.value = "";
  if (await identify({ typed: true })) await showPage();
});

document.getElementById("sign-out").addEventListener("click", () => {
  session.forget();
  showSignIn();
});

document.getElementById("lang").addEventListener("click", async () => {
  await switchLang();
  applyLabels();
  drawHeader();
  page?.relabel(main);
});

session.onRefused(() => showSignIn(t("session.expired")));

function tick() {
  document.getElementById("clock").textContent = clockText(new Date());
}

await loadLabels();
applyLabels();
tick();
setInterval(tick, 1000);
if (session.key() && (await identify())) await showPage();
else if (!session.key()) showSignIn();
