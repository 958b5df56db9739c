"""mnist_lab: the helper library of the mnist-lab course."""
