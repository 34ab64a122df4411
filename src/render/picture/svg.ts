/** Writes a laid-out picture as one self-contained SVG document: one element a line, no external resource. Pure. */
import { ARROWS, PAINT, type Shape } from './shapes.js';
import { FONTS, type TextStyle } from './text-width.js';

/** A laid-out picture: its size, what is drawn, and its title and description for screen readers. */
export interface Picture {
  width: number;
  height: number;
  title: string;
  description: string;
  shapes: Shape[];
}

/** Escapes text for XML content and attribute values. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** The SVG document of a picture. */
export function svgDocument(picture: Picture): string {
  const { width, height } = picture;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="kubeha-title kubeha-desc" font-family="${xmlEscape(FONTS.sans)}">`,
    `<title id="kubeha-title">${xmlEscape(picture.title)}</title>`,
    `<desc id="kubeha-desc">${xmlEscape(picture.description)}</desc>`,
    '<defs>',
    ...ARROWS.map(
      (name) =>
        `<marker id="kubeha-arrow-${name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
        `<path d="M0 0 L10 5 L0 10 z" fill="${PAINT[name].stroke}"/></marker>`,
    ),
    '</defs>',
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" rx="10" fill="${PAINT.card.fill}" stroke="${PAINT.card.stroke}"/>`,
    ...picture.shapes.flatMap(shapeLines),
    '</svg>',
    '',
  ].join('\n');
}

function shapeLines(shape: Shape): string[] {
  switch (shape.kind) {
    case 'group':
      return [
        `<g class="${xmlEscape(shape.role)}">`,
        ...(shape.tooltip ? [`<title>${xmlEscape(shape.tooltip)}</title>`] : []),
        ...shape.children.flatMap(shapeLines),
        '</g>',
      ];
    case 'rect': {
      const dash = shape.dash ? ` stroke-dasharray="${shape.dash}"` : '';
      return [
        `<rect x="${shape.x}" y="${shape.y}" width="${shape.w}" height="${shape.h}" rx="${shape.rx}" fill="${shape.paint.fill}" stroke="${shape.paint.stroke}"${dash}/>`,
      ];
    }
    case 'circle':
      return [`<circle cx="${shape.cx}" cy="${shape.cy}" r="${shape.r}" fill="${shape.paint.fill}" stroke="${shape.paint.stroke}" stroke-width="1.5"/>`];
    case 'path': {
      const dash = shape.dash ? ` stroke-dasharray="${shape.dash}"` : '';
      const arrow = shape.arrow ? ` marker-end="url(#kubeha-arrow-${shape.arrow})"` : '';
      return [`<path d="${shape.d}" fill="none" stroke="${shape.stroke}" stroke-width="${shape.width}"${dash}${arrow}/>`];
    }
    case 'text':
      return [`<text x="${shape.x}" y="${shape.y}"${fontAttributes(shape.style)} fill="${shape.fill}"${anchor(shape.anchor)}>${xmlEscape(shape.text)}</text>`];
  }
}

/** Size and weight of a text; its family when it is not the document's (sans). */
function fontAttributes(style: TextStyle): string {
  const family = style.font === 'sans' ? '' : ` font-family="${xmlEscape(FONTS[style.font])}"`;
  return `${family} font-size="${style.size}"${style.bold ? ' font-weight="bold"' : ''}`;
}

function anchor(value: 'start' | 'middle' | 'end'): string {
  return value === 'start' ? '' : ` text-anchor="${value}"`;
}
