// Parse an iCalendar file with node-ical; print its events as JSON:
// [{uid, start, end, summary, description, location, status}] with times as UTC ISO strings.
const ical = require("node-ical");

const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const data = ical.sync.parseICS(Buffer.concat(chunks).toString("utf8"));
  const events = Object.values(data)
    .filter((item) => item.type === "VEVENT")
    .map((e) => ({
      uid: e.uid,
      start: e.start.toISOString(),
      end: e.end.toISOString(),
      summary: typeof e.summary === "object" ? e.summary.val : e.summary,
      description: e.description ? String(typeof e.description === "object" ? e.description.val : e.description) : "",
      location: e.location ? String(typeof e.location === "object" ? e.location.val : e.location) : "",
      status: e.status || "",
    }));
  process.stdout.write(JSON.stringify(events));
});
