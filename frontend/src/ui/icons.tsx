/** Node-type icons: the registry names a Lucide icon; only these are bundled (tree-shaken). */
import {
  Box, Clock, Code, FileText, Flag, GitBranch, GitMerge, Globe, Hourglass, Link, Mail, MessageCircle,
  Percent, Play, RefreshCw, Send, Shuffle, Tag, Tags, UserCheck, UserPlus, Zap, type LucideIcon,
} from "lucide-react";

const ICONS: Record<string, LucideIcon> = {
  clock: Clock, code: Code, "file-text": FileText, flag: Flag, "git-branch": GitBranch,
  "git-merge": GitMerge, globe: Globe, hourglass: Hourglass, link: Link, mail: Mail,
  "message-circle": MessageCircle, percent: Percent, play: Play, "refresh-cw": RefreshCw, send: Send,
  shuffle: Shuffle, tag: Tag, "tag-off": Tags, "user-check": UserCheck, "user-plus": UserPlus, zap: Zap,
};

export function TypeIcon({ name, size = 16 }: { name?: string; size?: number }) {
  const Icon = (name && ICONS[name]) || Box;
  return <Icon size={size} strokeWidth={2} aria-hidden />;
}
