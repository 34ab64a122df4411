/** The picture of a cluster (gen plan --format svg|mermaid, out/cluster.svg): a pure function of the ClusterModel. */
import type { ClusterModel } from '../../model/types.js';
import { layoutPicture } from './layout.js';
import { mermaidText } from './mermaid.js';
import { svgDocument } from './svg.js';
import { clusterView } from './view.js';

/** The cluster as an SVG document: the same model always gives the same bytes. */
export function clusterSvg(model: ClusterModel): string {
  return svgDocument(layoutPicture(clusterView(model)));
}

/** The cluster as a Mermaid flowchart, for wikis and merge requests that render it. */
export function clusterMermaid(model: ClusterModel): string {
  return mermaidText(clusterView(model));
}
