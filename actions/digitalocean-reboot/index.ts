/** Reaction: reboots a DigitalOcean droplet gracefully (droplet action "reboot"). */
import { dropletAction } from '../_shared/digitalocean.js';

const mod = dropletAction('reboot', 'DigitalOcean droplet reboot', 'Reboots a droplet gracefully, as the reboot command on its console would,');

export const meta = mod.meta;
export const react = mod.react;
