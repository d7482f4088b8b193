"""PyTorch's MNIST example (pytorch/examples, ``mnist/main.py``), run on tinygraph.

    python demos/pytorch_mnist.py [--epochs 14] [--batch-size 64] [--lr 1.0] [--gamma 0.7]
                                  [--dry-run] [--mnist DIR] [--save-model]

The training script below is PyTorch's, line for line: the same ``Net`` (two convolutions, max
pooling, dropout, two linear layers, ``log_softmax``), ``nll_loss``, Adadelta with ``StepLR``, and
the same train and test loops (``argmax(dim=1, keepdim=True)``, ``eq(...).sum().item()``). What
changed is marked ``# tinygraph:`` — the imports (tinygraph stands in for torch), the data source
and the device handling (tinygraph computes with numpy on the CPU):

- the data: by default the 1,797 8×8 digits that ship with scikit-learn (no download), each
  upsampled 3× and padded to MNIST's 28×28 so that ``Net`` is unchanged (``fc1`` still takes
  9216 = 64·12·12 features); ``--mnist DIR`` reads MNIST IDX files you already have;
- no ``torchvision``: the images are normalised with MNIST's mean and deviation (0.1307, 0.3081)
  as its ``transforms.Normalize`` does, and wrapped in a ``TensorDataset``;
- no CUDA or MPS: ``device`` is the CPU and the ``.to(device)`` calls are gone.

With ``--save-model`` the weights are written to ``output/mnist_cnn.npz`` (``tg.save``).
"""

# The example's own style is kept (super(Net, self), str.format, single quotes), so that it reads
# line for line like the original: ruff's rewrites and formatting are switched off for this file.
# ruff: noqa: UP008, UP032
# fmt: off
import argparse
import os

import numpy as np

import tinygraph as torch  # tinygraph: stands in for torch (tg.manual_seed, tg.flatten, tg.no_grad, ...)
import tinygraph.functional as F  # tinygraph
import tinygraph.nn as nn  # tinygraph
import tinygraph.optim as optim  # tinygraph
from tinygraph.data import DataLoader, TensorDataset, load_digits, load_mnist  # tinygraph: the data source
from tinygraph.optim.lr_scheduler import StepLR  # tinygraph

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # tinygraph: what transforms.Normalize((0.1307,), (0.3081,)) uses


def digits_as_mnist(test_fraction=0.2, seed=0):  # tinygraph: the data source
    """scikit-learn's 8×8 digits as 28×28 images: each pixel repeated 3×3 (24×24), then 2 pixels of
    zero padding all round; values in [0, 1] like MNIST's."""
    x_train, y_train, x_test, y_test = load_digits(test_fraction, seed)

    def upsample(x):
        big = np.kron(x, np.ones((1, 1, 3, 3), np.float32))
        return np.pad(big, ((0, 0), (0, 0), (2, 2), (2, 2)))

    return upsample(x_train), y_train, upsample(x_test), y_test


def mnist_datasets(directory):  # tinygraph: the data source (replaces torchvision's datasets.MNIST)
    """Train and test sets as TensorDatasets, normalised as the example's transform does."""
    x_train, y_train, x_test, y_test = load_mnist(directory) if directory else digits_as_mnist()
    normalise = lambda x: (x - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)
    return TensorDataset(normalise(x_train), y_train), TensorDataset(normalise(x_test), y_test)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        # tinygraph: no `data, target = data.to(device), target.to(device)` (numpy, on the CPU)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            # tinygraph: no `data, target = data.to(device), target.to(device)`
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)

    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))
    return correct / len(test_loader.dataset)  # tinygraph: returned for the smoke test


def main(argv=None):  # tinygraph: argv, so the smoke test can pass arguments
    # Training settings
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N',
                        help='input batch size for training (default: 64)')
    parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N',
                        help='input batch size for testing (default: 1000)')
    parser.add_argument('--epochs', type=int, default=14, metavar='N',
                        help='number of epochs to train (default: 14)')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR',
                        help='learning rate (default: 1.0)')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M',
                        help='Learning rate step gamma (default: 0.7)')
    parser.add_argument('--dry-run', action='store_true', default=False,
                        help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S',
                        help='random seed (default: 1)')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N',
                        help='how many batches to wait before logging training status')
    parser.add_argument('--save-model', action='store_true', default=False,
                        help='For Saving the current Model')
    parser.add_argument('--mnist', default=None, metavar='DIR',  # tinygraph: the data source
                        help='directory of MNIST IDX files (default: the 8x8 digits, upsampled)')
    args = parser.parse_args(argv)  # tinygraph: argv

    torch.manual_seed(args.seed)

    device = "cpu"  # tinygraph: numpy on the CPU (no CUDA or MPS to pick)

    train_kwargs = {'batch_size': args.batch_size}
    test_kwargs = {'batch_size': args.test_batch_size}

    dataset1, dataset2 = mnist_datasets(args.mnist)  # tinygraph: the data source
    train_loader = DataLoader(dataset1, **train_kwargs)  # tinygraph: torch.utils.data.DataLoader
    test_loader = DataLoader(dataset2, **test_kwargs)  # tinygraph: torch.utils.data.DataLoader

    model = Net()  # tinygraph: no .to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        accuracy = test(model, device, test_loader)  # tinygraph: keeps the accuracy
        scheduler.step()

    if args.save_model:
        os.makedirs("output", exist_ok=True)  # tinygraph: generated files go to output/
        torch.save(model.state_dict(), "output/mnist_cnn.npz")  # tinygraph: npz, in output/
    return accuracy  # tinygraph: for the smoke test


if __name__ == '__main__':
    main()
# fmt: on
