// The sensors (/console/sensors/): found by id, type and subdistrict, each leading to its page.
// Type and subdistrict are asked of the API (/v1/sensors filters); the id is matched here, as
// it is typed, within what the API answered.
import { apiAll, api } from "../api.js";
import { applyLabels, named, t } from "../i18n.js";

const TEMPLATE = `
<section class="panel sensor-list">
  <h2 data-i18n="sensor.list_title"></h2>
  <form class="filters" id="sensor-filters" autocomplete="off">
    <input id="sensor-search" type="search" spellcheck="false" data-i18n-placeholder="sensor.search_id" />
    <select id="sensor-type"></select>
    <select id="sensor-place"></select>
  </form>
  <p class="problem" id="sensor-list-problem" hidden></p>
  <p class="hint" id="sensor-count"></p>
  <table class="sensors">
    <thead><tr>
      <th data-i18n="sensor.id"></th><th data-i18n="sensor.name"></th>
      <th data-i18n="sensor.type"></th><th data-i18n="sensor.place"></th>
      <th data-i18n="sensor.status"></th>
    </tr></thead>
    <tbody id="sensor-rows"></tbody>
  </table>
</section>`;
const SHOWN = 500; // rows drawn at most; the count says how many matched

export function sensorListPage() {
  let sensors = [];
  let types = new Map();
  let places = new Map();
  let asked = 0; // the newest listing asked for: an older answer arriving late is dropped

  function options(select, allKey, entries) {
    const chosen = select.value;
    const all = new Option(t(allKey), "");
    select.replaceChildren(all, ...entries.map(([value, thing]) => new Option(named(thing), value)));
    select.value = chosen;
  }

  function drawFilters() {
    options(document.getElementById("sensor-type"), "sensor.all_types", [...types]);
    options(document.getElementById("sensor-place"), "sensor.all_places", [...places]);
  }

  function statusWord(online) {
    return t(online === true ? "sensor.online" : online === false ? "sensor.offline" : "sensor.unknown");
  }

  function drawRows() {
    const typed = document.getElementById("sensor-search").value.trim().toLowerCase();
    const found = sensors.filter((s) => !typed || s.id.toLowerCase().includes(typed));
    document.getElementById("sensor-count").textContent =
      found.length > SHOWN
        ? t("sensor.count_first", { n: found.length, shown: SHOWN })
        : t("sensor.count", { n: found.length });
    document.getElementById("sensor-rows").replaceChildren(
      ...found.slice(0, SHOWN).map((sensor) => {
        const row = document.createElement("tr");
        row.dataset.id = sensor.id;
        const link = document.createElement("a");
        link.href = `/console/sensors/${encodeURIComponent(sensor.id)}/`;
        link.textContent = sensor.id;
        const cells = [
          link,
          sensor.name ?? "",
          named(types.get(sensor.type)) || sensor.type,
          named(places.get(sensor.subdistrict)) || sensor.subdistrict,
          statusWord(sensor.online),
        ];
        row.append(
          ...cells.map((content) => {
            const cell = document.createElement("td");
            cell.append(content);
            return cell;
          }),
        );
        row.lastChild.dataset.online = String(sensor.online);
        return row;
      }),
    );
  }

  async function load() {
    const params = { limit: 1000 };
    const type = document.getElementById("sensor-type").value;
    const place = document.getElementById("sensor-place").value;
    if (type) params.type = type;
    if (place) params.subdistrict = place;
    const mine = ++asked;
    const list = document.getElementById("sensor-rows");
    delete list.dataset.loaded;
    try {
      const found = await apiAll("/v1/sensors", params);
      if (mine !== asked) return;
      sensors = found;
    } catch (error) {
      if (error.status === 401 || mine !== asked) return;
      const problem = document.getElementById("sensor-list-problem");
      problem.hidden = false;
      problem.textContent = t("sensor.load_failed", { detail: error.message });
      return;
    }
    document.getElementById("sensor-list-problem").hidden = true;
    drawRows();
    list.dataset.loaded = `${type}|${place}`; // what the rows are of (for tests)
  }

  return {
    async mount(root) {
      root.innerHTML = TEMPLATE;
      applyLabels(root);
      try {
        const [typeList, geography] = await Promise.all([api("/v1/sensor-types"), api("/v1/geography")]);
        types = new Map(typeList.map((x) => [x.name, x]));
        places = new Map(geography.subdistricts.features.map((f) => [f.id, f.properties]));
      } catch (error) {
        if (error.status === 401) return;
        const problem = document.getElementById("sensor-list-problem");
        problem.hidden = false;
        problem.textContent = t("sensor.load_failed", { detail: error.message });
      }
      drawFilters();
      document.getElementById("sensor-search").addEventListener("input", drawRows);
      document.getElementById("sensor-type").addEventListener("change", load);
      document.getElementById("sensor-place").addEventListener("change", load);
      document.getElementById("sensor-filters").addEventListener("submit", (e) => e.preventDefault());
      await load();
    },

    relabel(root) {
      applyLabels(root);
      drawFilters();
      drawRows();
    },

    unmount() {},
  };
}
