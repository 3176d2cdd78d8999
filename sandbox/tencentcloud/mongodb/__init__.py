"""MongoDB (v20190725) emulation: DescribeDBInstances over the world's MongoDB instances and their topology."""
