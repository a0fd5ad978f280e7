// A party's colour and outline dash pattern, from its id alone (never its place in a list): the same party
// keeps its colour when another joins, and has the same colour in a KML export. The same algorithm as
// formats/kml.py `party_style` (a test compares the two): 32-bit FNV-1a of the id's UTF-8 bytes picks one of
// Okabe and Ito's colour-blind-safe colours, and, with the remaining bits, a dash pattern.

export const PARTY_COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#CC79A7"];
export const PARTY_DASHES = ["", "10 5", "3 5", "12 4 3 4"];

export function partyHash(key) {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(String(key))) {
    h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return h;
}

/** `{colour: "#rrggbb", dash: "" | "10 5" | ...}` for a party id. */
export function partyStyle(key) {
  const h = partyHash(key);
  return {
    colour: PARTY_COLOURS[h % PARTY_COLOURS.length],
    dash: PARTY_DASHES[Math.floor(h / PARTY_COLOURS.length) % PARTY_DASHES.length],
  };
}
