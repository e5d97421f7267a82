/** ECharts (tree-shaken: line, heatmap and scatter charts on canvas) in a Preact component. */
import { HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'preact/hooks';

echarts.use([LineChart, HeatmapChart, ScatterChart, GridComponent, TooltipComponent, DataZoomComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, VisualMapComponent, CanvasRenderer]);

export type ChartOption = echarts.EChartsCoreOption;
export type ChartInstance = echarts.ECharts;

/**
 * A chart whose option is replaced whenever `option` changes (merged when `merge`), and whose
 * instance `onReady` receives (for event handlers and incremental updates).
 */
export function Chart(props: { option: ChartOption; height?: number; testId?: string; merge?: boolean; onReady?: (chart: ChartInstance) => void }) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<ChartInstance | null>(null);
  useEffect(() => {
    const instance = echarts.init(element.current!, undefined, { renderer: 'canvas' });
    chart.current = instance;
    props.onReady?.(instance);
    const resize = () => instance.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      instance.dispose();
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(props.option, { notMerge: !props.merge, lazyUpdate: true });
  }, [props.option]);
  return <div ref={element} class="chart" data-testid={props.testId} style={{ height: `${props.height ?? 260}px` }} />;
}

/** White to dark blue, for probabilities and G. */
export const HEAT_COLORS = ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'];
