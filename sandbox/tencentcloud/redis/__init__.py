"""Redis (v20180412) emulation: DescribeInstances over the world's Redis (and Tendis) instances and their topology."""
