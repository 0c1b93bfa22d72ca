/** Reaction: power cycles a DigitalOcean droplet (droplet action "power_cycle"), like its reset button. */
import { dropletAction } from '../_shared/digitalocean.js';

const mod = dropletAction('power_cycle', 'DigitalOcean droplet power cycle', 'Power cycles a droplet, like pushing the reset button of a machine, for one that no longer answers a graceful reboot,');

export const meta = mod.meta;
export const react = mod.react;
