// The city map: every configured subdistrict's polygon (GeoJSON from /v1/geography, registered
// with ECharts), coloured by the worst grade firing there, labelled with its name and how many
// of its sensors are online.
import * as echarts from "/console/assets/vendor/echarts.esm.min.mjs";
import { GRADE_COLOURS, NO_GRADE_COLOUR } from "../grades.js";
import { named, t } from "../i18n.js";

const MAP_NAME = "cityvitals";

export class CityMap {
  constructor(element) {
    this.chart = echarts.init(element, null, { renderer: "canvas" });
    this.places = new Map();
    // The panel settles after the tiles arrive (and with the window): the map follows it.
    this.observer = new ResizeObserver(() => this.chart.resize());
    this.observer.observe(element);
  }

  dispose() {
    this.observer.disconnect();
    this.chart.dispose();
  }

  setGeography(geography) {
    // `cp` is where ECharts puts a region's label: the geography's point for maps (the
    // centroid, or a point inside the polygon when a concave one's centroid falls outside).
    const features = geography.subdistricts.features.map((f) => ({
      ...f,
      properties: { ...f.properties, cp: f.properties.label_point },
    }));
    echarts.registerMap(MAP_NAME, { type: "FeatureCollection", features });
    this.places = new Map(geography.subdistricts.features.map((f) => [f.id, f.properties]));
    const lats = geography.subdistricts.features.flatMap((f) => latitudes(f.geometry));
    const middle = lats.length ? (Math.min(...lats) + Math.max(...lats)) / 2 : 0;
    // Degrees of longitude are shorter than degrees of latitude away from the equator.
    this.aspect = Math.cos((middle * Math.PI) / 180);
  }

  // worst: code -> grade; sensors: code -> {sensors, online, offline}
  draw(worst, sensors) {
    const data = [...this.places.keys()].map((code) => {
      const grade = worst.get(code) ?? null;
      const count = sensors.get(code) ?? { sensors: 0, online: 0, offline: 0 };
      return {
        name: code,
        grade,
        ...count,
        itemStyle: { areaColor: grade ? GRADE_COLOURS[grade] : NO_GRADE_COLOUR },
      };
    });
    this.chart.setOption({
      tooltip: {
        trigger: "item",
        textStyle: { fontSize: 18 },
        formatter: (p) => this.describe(p.data),
      },
      series: [
        {
          type: "map",
          map: MAP_NAME,
          nameProperty: "code",
          aspectScale: this.aspect,
          layoutCenter: ["50%", "50%"],
          layoutSize: "96%",
          selectedMode: false,
          itemStyle: { borderColor: "#9fc3e8", borderWidth: 1.5 },
          emphasis: {
            itemStyle: { borderColor: "#ffffff", borderWidth: 3 },
            label: { color: "#ffffff" },
          },
          label: {
            show: true,
            formatter: (p) => this.label(p.data),
            rich: {
              name: { fontSize: 18, fontWeight: "bold", color: "#f4f8ff", lineHeight: 24 },
              count: { fontSize: 14, color: "#cfe2f7", lineHeight: 18 },
              off: { fontSize: 14, color: "#ffb0a8", lineHeight: 18 },
            },
            textBorderColor: "#0b1622",
            textBorderWidth: 3,
          },
          data,
        },
      ],
    });
  }

  label(item) {
    const place = named(this.places.get(item.name));
    if (!item.sensors) return `{name|${place}}`;
    const online = `{count|${t("wall.online", item)}}`;
    return item.offline ? `{name|${place}}\n${online}  {off|${t("wall.offline", item)}}` : `{name|${place}}\n${online}`;
  }

  describe(item) {
    const place = named(this.places.get(item.name));
    const grade = t(item.grade ? `grade.${item.grade}_long` : "grade.none");
    const sensors = item.sensors ? t("wall.online", item) : t("wall.no_sensors");
    return `<b>${escape(place)}</b><br>${escape(grade)}<br>${escape(sensors)}`;
  }
}

function latitudes(geometry) {
  const rings = geometry.type === "Polygon" ? geometry.coordinates : geometry.coordinates.flat();
  return rings.flat().map((point) => point[1]);
}

export function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
