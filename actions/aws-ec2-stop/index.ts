/** Reaction: stops EC2 instances (StopInstances), optionally forced or hibernated. */
import { instanceAction } from '../_shared/aws-ec2.js';

const mod = instanceAction('stop', 'AWS EC2 instance stop', 'Stops (or with hibernate, hibernates; with force, force-stops) EBS-backed EC2 instances');

export const meta = mod.meta;
export const react = mod.react;
