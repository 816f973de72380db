/** The canvas's node components: one memoised component per node category, plus sticky notes. */
import { type NodeProps, type NodeTypes } from "@xyflow/react";
import { memo } from "react";
import type { CardNode } from "../convert";
import { NodeCard } from "./NodeCard";
import { NoteCard } from "./NoteCard";

export const TriggerNode = memo((props: NodeProps<CardNode>) => <NodeCard {...props} />);
export const LogicNode = memo((props: NodeProps<CardNode>) => <NodeCard {...props} />);
export const FlowNode = memo((props: NodeProps<CardNode>) => <NodeCard {...props} />);
export const ActionNode = memo((props: NodeProps<CardNode>) => <NodeCard {...props} />);

export const NODE_COMPONENTS: NodeTypes = {
  trigger: TriggerNode,
  logic: LogicNode,
  flow: FlowNode,
  action: ActionNode,
  note: NoteCard,
};
