// The console's pages by path. The gateway answers the index page only for the paths listed
// here (gateway/routes/console.py: PAGES), so a page is added in both places when it is built.
import { wallPage } from "./wall/wall.js";

export const ROUTES = [{ path: "/console/", label: "nav.wall", page: wallPage }];

export function routeFor(pathname) {
  const path = pathname.endsWith("/") ? pathname : `${pathname}/`;
  return ROUTES.find((route) => route.path === path) ?? null;
}
