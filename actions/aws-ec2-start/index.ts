/** Reaction: starts stopped EC2 instances (StartInstances). */
import { instanceAction } from '../_shared/aws-ec2.js';

const mod = instanceAction('start', 'AWS EC2 instance start', 'Starts stopped (EBS-backed) EC2 instances');

export const meta = mod.meta;
export const react = mod.react;
