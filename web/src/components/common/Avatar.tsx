import { avatarHue } from "../../lib/format";
import { RobotIcon } from "./Icons";

interface AvatarProps {
  name: string;
  initials: string;
  url?: string | null;
  size?: number;
  bot?: boolean;
  /** Shown as a tooltip (e.g. the workflow's name on a bot message). */
  title?: string;
  /** Next to the person's name already: hidden from screen readers. */
  decorative?: boolean;
}

export function Avatar({ name, initials, url, size = 32, bot, title, decorative }: AvatarProps) {
  if (decorative) {
    return (
      <span aria-hidden="true" style={{ display: "inline-flex" }}>
        <Avatar name={name} initials={initials} url={url} size={size} bot={bot} title={title} />
      </span>
    );
  }
  const style = { width: `${size}px`, height: `${size}px`, fontSize: `${Math.round(size * 0.38)}px` };
  if (bot) {
    return (
      <span class="avatar avatar-bot" style={style} title={title ?? name} role="img" aria-label={`Automation: ${name}`}>
        <RobotIcon size={Math.round(size * 0.6)} />
      </span>
    );
  }
  if (url) {
    return <img class="avatar" style={style} src={url} alt={name} title={title ?? name} width={size} height={size} loading="lazy" />;
  }
  const hue = avatarHue(name || initials);
  // Text at 28% lightness on 90%: at least 5.3:1 whatever the hue (32% fell to 4.4:1 on
  // yellows, under WCAG AA).
  return (
    <span
      class="avatar avatar-initials"
      style={{ ...style, background: `hsl(${hue} 70% 90%)`, color: `hsl(${hue} 45% 28%)` }}
      title={title ?? name}
      role="img"
      aria-label={name}
    >
      {initials && initials !== "?" ? initials.slice(0, 2) : "?"}
    </span>
  );
}
