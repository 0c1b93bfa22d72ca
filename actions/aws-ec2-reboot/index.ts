/** Reaction: reboots EC2 instances (RebootInstances). */
import { instanceAction } from '../_shared/aws-ec2.js';

const mod = instanceAction('reboot', 'AWS EC2 instance reboot', 'Reboots EC2 instances, as a reboot from their operating system would,');

export const meta = mod.meta;
export const react = mod.react;
