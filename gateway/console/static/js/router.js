// The console's pages by path. The gateway answers the index page only for the paths listed
// here (gateway/routes/console.py: PAGES), so a page is added in both places when it is built.
// A path may hold parameters (`/console/alerts/:fingerprint/`), handed to the page as `params`;
// `nav: false` keeps a page reached only by links (one alert, one sensor) out of the navigation;
// the navigation marks the entry of the same label (an alert's page marks 值班处置);
// `roles` shows a page's link only to those roles (the API refuses the others anyway).
import { deadLettersPage } from "./dead_letters/dead_letters.js";
import { alertPage } from "./duty/alert.js";
import { dutyListPage } from "./duty/list.js";
import { sensorPage } from "./sensors/sensor.js";
import { sensorListPage } from "./sensors/sensor_list.js";
import { wallPage } from "./wall/wall.js";

export const ROUTES = [
  { path: "/console/", label: "nav.wall", page: wallPage },
  { path: "/console/alerts/", label: "nav.duty", page: dutyListPage },
  { path: "/console/alerts/:fingerprint/", label: "nav.duty", page: alertPage, nav: false },
  { path: "/console/sensors/", label: "sensor.nav", page: sensorListPage },
  { path: "/console/sensors/:sensor/", label: "sensor.nav", page: sensorPage, nav: false },
  {
    path: "/console/dead-letters/",
    label: "dead_letters.nav",
    page: deadLettersPage,
    roles: ["admin"],
  },
];

const PARAMETER = /:([a-z_]+)/g;

export function routeFor(pathname) {
  const path = pathname.endsWith("/") ? pathname : `${pathname}/`;
  for (const route of ROUTES) {
    const names = [...route.path.matchAll(PARAMETER)].map((match) => match[1]);
    const pattern = new RegExp(`^${route.path.replace(PARAMETER, "([^/]+)")}$`);
    const found = pattern.exec(path);
    if (found) {
      const values = found.slice(1).map((value) => decodeURIComponent(value));
      return { ...route, params: Object.fromEntries(names.map((name, i) => [name, values[i]])) };
    }
  }
  return null;
}
